//! Importing and exporting lists: CSV in the layouts other systems use,
//! plain files, per-row errors, export by list and date, hashed exchange.

use std::sync::Arc;

use optout::address::Region;
use optout::error::ErrorKind;
use optout::exchange::{Export, Import, ImportFormat, ImportMode};
use optout::filter::{Digest, HashedList, SkipReason};
use optout::model::{Category, Channel, ListId, Scope, Source, Timestamp};
use optout::store::{Edit, ListSettings};
use optout::{Address, Dispatch, Normalizer, Store};

fn us() -> Normalizer {
    Normalizer::new(Region::new("US").unwrap())
}

fn addr(s: &str) -> Address {
    us().address(s).unwrap()
}

#[test]
fn headers_from_other_platforms() {
    for (file, expected) in [
        ("phone\n+14155550123\n", "+14155550123"),
        ("Mobile,First Name\n(415) 555-0123,Ann\n", "+14155550123"),
        (
            "Email Address,Status\nAnn@Example.com,unsubscribed\n",
            "ann@example.com",
        ),
        ("id,EMAIL\n7,ann@example.com\n", "ann@example.com"),
        ("MSISDN\n14155550123\n", "+14155550123"),
    ] {
        let store = Store::new();
        let report = store
            .import(file.as_bytes(), &us(), &Import::new())
            .unwrap();
        assert_eq!((report.applied, report.rejected.len()), (1, 0), "{file:?}");
        assert!(
            store.contains(ListId::SYSTEM, &Scope::Account, &addr(expected)),
            "{file:?}"
        );
    }
    let err = Store::new()
        .import("name,city\nAnn,Paris\n".as_bytes(), &us(), &Import::new())
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Csv { line: 1, .. }),
        "{err}"
    );
}

#[test]
fn columns_for_list_scope_time_and_source() {
    let store = Store::new();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let too_long = "x".repeat(101);
    let file = format!(
        "address,list,scope,time,source\n\
         +14155550100,default,account,2025-11-01,web form\n\
         +14155550101,Promotions,101,2025-11-02T10:00:00Z,keyword\n\
         +14155550102,Nope,account,,\n\
         +14155550103,,{too_long},,\n\
         +14155550104,,,yesterday,\n\
         +14155550105,,,,carrier pigeon\n\
         ,,,,\n"
    );
    let report = store
        .import(file.as_bytes(), &us(), &Import::new())
        .unwrap();
    assert_eq!(report.rows, 7);
    assert_eq!(report.applied, 2);
    let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [4, 5, 6, 7, 8]);
    assert!(report.rejected[0].reason.contains("no list named"));
    assert!(store.contains(
        promo,
        &Scope::Channel(Channel::new("101").unwrap()),
        &addr("+14155550101")
    ));
    let history = store.history(..);
    assert_eq!(history[0].source, Source::WebForm);
    assert_eq!(history[0].at, "2025-11-01".parse::<Timestamp>().unwrap());
    assert_eq!(history[1].source, Source::Keyword);
}

/// Other systems write `global` or `all` for the whole account; read as a
/// channel name, the opt-out would reach no send.
#[test]
fn account_wide_scope_words_of_other_systems() {
    let store = Store::new();
    let file = "phone,scope\n\
                +14155550100,global\n\
                +14155550101,ALL\n\
                +14155550102,*\n\
                +14155550103,Account-Wide\n\
                +14155550104,sms1\n";
    let report = store
        .import(file.as_bytes(), &us(), &Import::new())
        .unwrap();
    assert_eq!(report.applied, 5);
    for i in 0..4 {
        let a = addr(&format!("+1415555010{i}"));
        assert!(store.contains(ListId::SYSTEM, &Scope::Account, &a), "{i}");
    }
    let sms = Scope::Channel(Channel::new("sms1").unwrap());
    assert!(store.contains(ListId::SYSTEM, &sms, &addr("+14155550104")));
    assert!(!store.contains(ListId::SYSTEM, &Scope::Account, &addr("+14155550104")));
}

#[test]
fn all_or_nothing_applies_nothing_when_a_row_is_bad() {
    let store = Store::new();
    let file = "phone\n+14155550100\nnot a phone\n+14155550101\n";
    let import = Import::new().mode(ImportMode::AllOrNothing);
    let report = store.import(file.as_bytes(), &us(), &import).unwrap();
    assert_eq!((report.applied, report.rejected.len()), (0, 1));
    assert_eq!(store.count(ListId::SYSTEM).unwrap(), 0);
    let good = "phone\n+14155550100\n+14155550101\n";
    assert_eq!(
        store
            .import(good.as_bytes(), &us(), &import)
            .unwrap()
            .applied,
        2
    );
}

#[test]
fn all_or_nothing_is_one_change_in_the_log() {
    let store = Store::new();
    let file = "phone,source,time\n\
                +14155550100,keyword,2025-11-01\n\
                +14155550101,web form,2025-11-02\n\
                +14155550102,keyword,2025-11-03\n";
    let before = store.seq();
    let import = Import::new().mode(ImportMode::AllOrNothing);
    let report = store.import(file.as_bytes(), &us(), &import).unwrap();
    assert_eq!(report.applied, 3);
    // Rows with different sources and times form three groups; they are
    // still committed as one operation, so no reader sees half the file.
    assert_eq!(store.seq(), before + 1);
    let history = store.history(..);
    assert_eq!(history.len(), 3);
    assert_eq!(history[1].source, Source::WebForm);
    assert_eq!(history[2].at, "2025-11-03".parse::<Timestamp>().unwrap());
}

#[test]
fn plain_files_and_big_streams() {
    let store = Store::new();
    let mut file = String::new();
    for i in 0..150_000u64 {
        file.push_str(&format!("+1212{:07}\n", i));
        if i % 50_000 == 0 {
            file.push_str("\n  \nbogus\n");
        }
    }
    let report = store
        .import(
            file.as_bytes(),
            &us(),
            &Import::new().format(ImportFormat::Lines),
        )
        .unwrap();
    assert_eq!(report.applied, 150_000);
    assert_eq!(report.rejected.len(), 3);
    assert_eq!(report.rows, 150_003);
}

#[test]
fn export_by_list_and_date_range_and_round_trip() {
    let store = Store::new();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let t = Timestamp::from_unix_secs;
    store
        .opt_out(&addr("+14155550100"), &Edit::new().at(t(1_000)))
        .unwrap();
    store
        .opt_out(
            &addr("ann@example.com"),
            &Edit::new().at(t(2_000)).source(Source::WebForm),
        )
        .unwrap();
    store
        .opt_out(
            &addr("+14155550101"),
            &Edit::new()
                .list(promo)
                .scope(Scope::Channel(Channel::new("sms 7").unwrap()))
                .at(t(3_000)),
        )
        .unwrap();
    store
        .opt_out_many(
            &[addr("+14155550102"), addr("+14155550103")],
            &Edit::new().at(t(4_000)),
        )
        .unwrap();
    // Re-opting out later moves the export time.
    store
        .opt_in(&addr("+14155550100"), &Edit::new().at(t(5_000)))
        .unwrap();
    store
        .opt_out(&addr("+14155550100"), &Edit::new().at(t(6_000)))
        .unwrap();

    let export = |e: &Export| {
        let mut out = Vec::new();
        store.export_csv(&mut out, e).unwrap();
        String::from_utf8(out).unwrap()
    };
    let all = export(&Export::all());
    assert_eq!(all.lines().count(), 6, "{all}");
    assert!(all.contains(&format!("+14155550100,Default,account,{},manual", t(6_000))));
    assert!(all.contains(&format!(
        "ann@example.com,Default,account,{},web form",
        t(2_000)
    )));
    assert!(all.contains(&format!(
        "+14155550101,Promotions,sms 7,{},manual",
        t(3_000)
    )));
    let promo_only = export(&Export::all().list(promo));
    assert_eq!(promo_only.lines().count(), 2);
    let window = export(&Export::all().between(t(1_500)..t(4_500)));
    assert_eq!(window.lines().count(), 5, "{window}");
    assert!(!window.contains("+14155550100"));

    let copy = Store::new();
    copy.create_list(ListSettings::new("Promotions")).unwrap();
    let report = copy.import(all.as_bytes(), &us(), &Import::new()).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(export(&Export::all()), {
        let mut out = Vec::new();
        copy.export_csv(&mut out, &Export::all()).unwrap();
        String::from_utf8(out).unwrap()
    });
}

#[test]
fn hashed_suppression_round_trip() {
    let store = Store::new();
    store.opt_out(&addr("+14155550100"), &Edit::new()).unwrap();
    store
        .opt_out(&addr("ann@example.com"), &Edit::new())
        .unwrap();
    for digest in [Digest::Sha256, Digest::Md5] {
        let mut file = Vec::new();
        assert_eq!(
            store
                .export_hashes(&mut file, ListId::SYSTEM, digest)
                .unwrap(),
            2
        );
        let text = String::from_utf8(file.clone()).unwrap();
        assert!(!text.contains("ann@"), "plaintext leaked");
        let (partner, rejected) = HashedList::read(file.as_slice(), digest).unwrap();
        assert!(rejected.is_empty());
        assert_eq!(partner.len(), 2);

        // The partner honours our list without our plaintext.
        let honouring = Dispatch::new(Category::Marketing).honour_hashed(Arc::new(partner.clone()));
        let suppression = Store::new().compile(&honouring).unwrap();
        let audience = ["(415) 555-0100", "ANN@example.com", "(415) 555-0199"];
        let split = suppression.split(&us(), &audience);
        let got: Vec<Option<SkipReason>> =
            split.outcomes().iter().map(|o| o.skip_reason()).collect();
        assert_eq!(
            got,
            [Some(SkipReason::OptedOut), Some(SkipReason::OptedOut), None]
        );
        let ids = [addr("(415) 555-0100").phone_id().unwrap()];
        assert_eq!(
            suppression.split_ids(&ids).verdicts(),
            [Some(SkipReason::OptedOut)]
        );
        // Utility traffic ignores it.
        let utility = Store::new()
            .compile(&Dispatch::new(Category::Utility).honour_hashed(Arc::new(partner)))
            .unwrap();
        assert_eq!(utility.check(&addr("(415) 555-0100")), None);
    }
    let (_, rejected) = HashedList::read("zz\n\nABCDEF\n".as_bytes(), Digest::Md5).unwrap();
    assert_eq!(rejected.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3]);
}

/// A partner may hash phone numbers without their `+` and email addresses
/// with or without alias folding: every such form suppresses.
#[test]
fn partner_lists_in_other_forms_still_suppress() {
    let file = [
        Digest::Sha256.hex("14155550100"),
        Digest::Sha256.hex("jdoe@gmail.com"),
    ]
    .join("\n");
    let (partner, rejected) = HashedList::read(file.as_bytes(), Digest::Sha256).unwrap();
    assert!(rejected.is_empty());
    let suppression = Store::new()
        .compile(&Dispatch::new(Category::Marketing).honour_hashed(Arc::new(partner)))
        .unwrap();
    // Read with a normalizer that keeps aliases: the folded form is tried.
    for (text, suppressed) in [
        ("+1 415 555 0100", true),
        ("j.doe+deals@gmail.com", true),
        ("jdoe@gmail.com", true),
        ("+1 415 555 0101", false),
        ("jdoe@example.com", false),
    ] {
        assert_eq!(
            suppression.check(&addr(text)).is_some(),
            suppressed,
            "{text}"
        );
    }
}

/// Cells a spreadsheet would run as formulas are neutralized on export
/// (OWASP CSV injection) and restored on import: export → import stays
/// the identity. Canonical E.164 numbers are left alone.
#[test]
fn exports_are_safe_to_open_in_a_spreadsheet() {
    let store = Store::new();
    let evil = store
        .create_list(ListSettings::new("=HYPERLINK(\"http://x\")"))
        .unwrap();
    let at = store.create_list(ListSettings::new("@SUM(A1)")).unwrap();
    let quote = store.create_list(ListSettings::new("'quoted")).unwrap();
    let minus = Channel::new("-2+3").unwrap();
    let plus = Channel::new("+14155550100").unwrap();
    store
        .opt_out(&addr("+14155550101"), &Edit::new().list(evil))
        .unwrap();
    store
        .opt_out(
            &addr("ann@example.com"),
            &Edit::new().list(at).scope(Scope::Channel(minus)),
        )
        .unwrap();
    store
        .opt_out(
            &addr("+14155550102"),
            &Edit::new().list(quote).scope(Scope::Channel(plus)),
        )
        .unwrap();
    let mut out = Vec::new();
    store.export_csv(&mut out, &Export::all()).unwrap();
    let text = String::from_utf8(out).unwrap();
    let cells: Vec<&str> = text.lines().skip(1).flat_map(|l| l.split(',')).collect();
    for cell in &cells {
        let cell = cell.trim_matches('"');
        let risky = cell.starts_with(['=', '-', '@', '\t', '\r'])
            || (cell.starts_with('+') && !cell[1..].bytes().all(|b| b.is_ascii_digit()));
        assert!(!risky, "{cell:?} would run as a formula:\n{text}");
    }
    assert!(text.contains("+14155550101,\"'=HYPERLINK"), "{text}");
    assert!(text.contains("'-2+3"), "{text}");
    assert!(
        text.contains(",+14155550100,"),
        "E.164 stays as it is: {text}"
    );
    assert!(text.contains("''quoted"), "{text}");

    let copy = Store::new();
    for name in ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "'quoted"] {
        copy.create_list(ListSettings::new(name)).unwrap();
    }
    let report = copy
        .import(text.as_bytes(), &Normalizer::default(), &Import::new())
        .unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let mut again = Vec::new();
    copy.export_csv(&mut again, &Export::all()).unwrap();
    assert_eq!(String::from_utf8(again).unwrap(), text);
}

/// An export with both a postal `Address` and an `Email Address` column
/// (Mailchimp's) imports the emails, and says which column it used.
#[test]
fn email_and_phone_columns_win_over_a_bare_address() {
    let store = Store::new();
    let file = "Address,Email Address,Phone\n\"1 Main St, Springfield\",Ann@Example.com,\n";
    let report = store
        .import(file.as_bytes(), &us(), &Import::new())
        .unwrap();
    assert_eq!(report.address_column.as_deref(), Some("Email Address"));
    assert_eq!(report.applied, 1, "{:?}", report.rejected);
    let phones = "Address,Mobile\n1 Main St,(415) 555-0123\n";
    let report = store
        .import(phones.as_bytes(), &us(), &Import::new())
        .unwrap();
    assert_eq!(report.address_column.as_deref(), Some("Mobile"));
    assert_eq!(report.applied, 1);
    let bare = "\u{feff}address\n+14155550199\n";
    let report = store
        .import(bare.as_bytes(), &us(), &Import::new())
        .unwrap();
    assert_eq!(report.address_column.as_deref(), Some("address"));
}

/// Channels named any way users name them survive export → import.
#[test]
fn channel_names_survive_export_and_import() {
    let store = Store::new();
    let names = [
        "sms1",
        "+14155550100",
        "news@example.com",
        "106540352242922",
        "WhatsApp EU",
    ];
    for (i, name) in names.iter().enumerate() {
        store
            .opt_out(
                &addr(&format!("+1415555{:04}", i)),
                &Edit::new().scope(Scope::Channel(Channel::new(name).unwrap())),
            )
            .unwrap();
    }
    let mut out = Vec::new();
    store.export_csv(&mut out, &Export::all()).unwrap();
    let copy = Store::new();
    copy.import(out.as_slice(), &us(), &Import::new()).unwrap();
    for (i, name) in names.iter().enumerate() {
        assert!(copy.contains(
            ListId::SYSTEM,
            &Scope::Channel(Channel::new(name).unwrap()),
            &addr(&format!("+1415555{:04}", i))
        ));
    }
}
