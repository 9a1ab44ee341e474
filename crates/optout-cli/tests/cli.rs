//! The `optout` command end to end, on the built binary.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn optout(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_optout"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn optout_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_optout"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

const OPTOUTS: &str = "phone,list\n+14155550100,\n(415) 555-0101,Promotions\n";

#[test]
fn filter_keeps_every_column_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("optouts.csv"), OPTOUTS).unwrap();
    // A byte order mark, CRLF line ends, a quoted comma, an empty cell.
    std::fs::write(
        d.join("audience.csv"),
        "\u{feff}name,Phone,city\r\nAnn,+14155550100,\"SF, CA\"\r\nBob,415-555-0101,\r\n\
         Cy,415 555 0102,NY\r\nDee,4155550102,NY\r\nEd,oops,X\r\n",
    )
    .unwrap();
    let out = optout(
        d,
        &[
            "filter",
            "--optouts",
            "optouts.csv",
            "--audience",
            "audience.csv",
            "--category",
            "marketing",
            "--lists",
            "Promotions",
            "--out",
            "out",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "1 sendable, 4 skipped (2 opted-out, 1 invalid number, 1 duplicate)\n"
    );
    assert!(text(&out.stderr).contains("addresses from column \"Phone\""));
    assert_eq!(
        read(d, "out/sendable.csv"),
        "name,Phone,city,normalized\nCy,415 555 0102,NY,+14155550102\n"
    );
    assert_eq!(
        read(d, "out/skipped.csv"),
        "name,Phone,city,normalized,reason\n\
         Ann,+14155550100,\"SF, CA\",+14155550100,Optout Number\n\
         Bob,415-555-0101,,+14155550101,Optout Number\n\
         Dee,4155550102,NY,+14155550102,Duplicate\n\
         Ed,oops,X,,Invalid Number\n"
    );
}

#[test]
fn filter_reads_plain_lines_tsv_and_tiny_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("optouts.csv"), OPTOUTS).unwrap();
    let run = |audience: &str, extra: &[&str]| {
        std::fs::write(d.join("a.txt"), audience).unwrap();
        let mut args = vec![
            "filter",
            "--optouts",
            "optouts.csv",
            "--audience",
            "a.txt",
            "--category",
            "utility",
            "--out",
            "o",
        ];
        args.extend_from_slice(extra);
        optout(d, &args)
    };
    // Plain lines.
    let out = run("+14155550100\nann@example.com\n\n+1 415 555 0100\n", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "2 sendable, 1 skipped (duplicate)\n");
    assert_eq!(
        read(d, "o/sendable.csv"),
        "input,normalized\n+14155550100,+14155550100\nann@example.com,ann@example.com\n"
    );
    // Tab-separated, address column named.
    let out = run(
        "id\tmsisdn\n1\t+14155550100\n2\t+14155550199\n",
        &["--column", "msisdn"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "2 sendable, 0 skipped\n");
    assert_eq!(
        read(d, "o/sendable.csv"),
        "id,msisdn,normalized\n1,+14155550100,+14155550100\n2,+14155550199,+14155550199\n"
    );
    // One line, and none.
    let out = run("+14155550100", &[]);
    assert_eq!(text(&out.stdout), "1 sendable, 0 skipped\n");
    let out = run("", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "0 sendable, 0 skipped\n");
    assert_eq!(read(d, "o/sendable.csv"), "input,normalized\n");
    assert_eq!(read(d, "o/skipped.csv"), "input,normalized,reason\n");
}

#[test]
fn bad_input_is_an_error_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.csv"), "name,phone\nAnn,+14155550100\n").unwrap();
    std::fs::write(d.join("ok.csv"), OPTOUTS).unwrap();
    std::fs::write(d.join("bad.csv"), "phone\n+14155550100\nnot a number\n").unwrap();
    let filter = |optouts: &str, extra: &[&str]| {
        let mut args = vec![
            "filter",
            "--optouts",
            optouts,
            "--audience",
            "a.csv",
            "--category",
            "marketing",
            "--out",
            "o",
        ];
        args.extend_from_slice(extra);
        optout(d, &args)
    };

    let out = filter("ok.csv", &["--column", "mobile"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("a.csv:1: no column named \"mobile\""),
        "{}",
        text(&out.stderr)
    );
    assert!(!d.join("o/sendable.csv").exists());

    // A bad opt-out row stops the run, named by its line.
    let out = filter("bad.csv", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("bad.csv:3: \"not a number\""),
        "{}",
        text(&out.stderr)
    );
    assert!(!d.join("o/sendable.csv").exists());
    // Unless told to go on: still reported, and the good rows honoured.
    let out = filter("bad.csv", &["--skip-bad-optouts"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("bad.csv:3:"));
    assert_eq!(text(&out.stdout), "0 sendable, 1 skipped (opted-out)\n");

    let out = filter("missing.csv", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("missing.csv"));

    // Nothing to suppress with: refused rather than sent unfiltered.
    let out = optout(
        d,
        &[
            "filter",
            "--audience",
            "a.csv",
            "--category",
            "marketing",
            "--out",
            "o",
        ],
    );
    assert_eq!(out.status.code(), Some(1));

    // Usage errors exit 2.
    let out = optout(d, &["filter", "--audience", "a.csv", "--nope"]);
    assert_eq!(out.status.code(), Some(2));
    let out = optout(d, &["filter", "--help"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("Example:"));
}

#[test]
fn a_store_round_trips_through_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("optouts.csv"), OPTOUTS).unwrap();
    let out = optout(d, &["import", "--store", "st", "optouts.csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "2 opt-outs recorded, 0 already there\n");

    // A reply recorded by `inbound` is honoured by `check` and `filter`.
    let out = optout_stdin(
        d,
        &["inbound", "--store", "st"],
        "+14155550102\tsms1\tPlease stop texting me\nnot a sender\tsms1\tSTOP\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert!(lines[0].starts_with("+14155550102\topt-out\t"), "{lines:?}");
    assert_eq!(lines[1], "not a sender\terror\t");

    let out = optout(
        d,
        &[
            "check",
            "--store",
            "st",
            "+14155550102",
            "+14155550199",
            "(415) 555-0100",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "+14155550102\tOptout Number\n+14155550199\tsendable\n(415) 555-0100\tOptout Number\n"
    );
    let out = optout(
        d,
        &[
            "check",
            "--store",
            "st",
            "--category",
            "otp",
            "+14155550102",
        ],
    );
    assert_eq!(text(&out.stdout), "+14155550102\tsendable\n");

    std::fs::write(
        d.join("a.txt"),
        "+14155550100\n+14155550102\n+14155550103\n",
    )
    .unwrap();
    let out = optout(
        d,
        &[
            "filter",
            "--store",
            "st",
            "--audience",
            "a.txt",
            "--category",
            "marketing",
            "--out",
            "o",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "1 sendable, 2 skipped (opted-out)\n");

    let out = optout(d, &["export", "--store", "st"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    assert!(csv.starts_with("address,list,scope,time,source\n"), "{csv}");
    for address in ["+14155550100", "+14155550101", "+14155550102"] {
        assert!(csv.contains(address), "{csv}");
    }
    // The export imports into a new store to the same opt-outs.
    std::fs::write(d.join("export.csv"), &csv).unwrap();
    let out = optout(d, &["import", "--store", "st2", "export.csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again = optout(d, &["export", "--store", "st2"]);
    assert_eq!(text(&again.stdout), csv);

    // A second process on an open store is refused (inbound holds it).
    let mut holder = Command::new(env!("CARGO_BIN_EXE_optout"))
        .current_dir(d)
        .args(["inbound", "--store", "st"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = optout(d, &["check", "--store", "st", "+14155550102"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("lock") || text(&out.stderr).contains("in use"),
        "{}",
        text(&out.stderr)
    );
    drop(holder.stdin.take());
    holder.wait().unwrap();
}

#[test]
fn normalize_reads_arguments_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = optout_stdin(
        dir.path(),
        &["normalize"],
        "(415) 555-0123\r\nAnn@Example.COM\n12\n",
    );
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        "(415) 555-0123\t+14155550123\t\nAnn@Example.COM\tann@example.com\t\n12\t\tinvalid number: too short\n"
    );
    let out = optout(dir.path(), &["normalize", "--region", "GB", "07911 123456"]);
    assert_eq!(text(&out.stdout), "07911 123456\t+447911123456\t\n");
}

/// An audience longer than a chunk, with people repeated across chunks:
/// the command's outputs agree with the library's whole split, row for row.
#[test]
fn a_long_audience_agrees_with_the_library() {
    use optout::{Dispatch, Normalizer, Store};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut optouts = String::from("phone\n");
    for i in (0..150_000u64).step_by(11) {
        optouts.push_str(&format!("+1415{:07}\n", i));
    }
    std::fs::write(d.join("optouts.csv"), &optouts).unwrap();
    let audience: Vec<String> = (0..150_000u64)
        .map(|i| format!("+1415{:07}", (i * 7_919) % 100_000))
        .collect();
    std::fs::write(d.join("a.txt"), audience.join("\n")).unwrap();
    let out = optout(
        d,
        &[
            "filter",
            "--optouts",
            "optouts.csv",
            "--audience",
            "a.txt",
            "--category",
            "marketing",
            "--out",
            "o",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let n = Normalizer::default();
    let store = Store::new();
    let import = optout::exchange::Import::new();
    store.import(optouts.as_bytes(), &n, &import).unwrap();
    let split = store
        .compile(&Dispatch::marketing())
        .unwrap()
        .split(&n, &audience);
    assert_eq!(text(&out.stdout), format!("{}\n", split.report()));
    let mut expected_sendable = String::from("input,normalized\n");
    let mut expected_skipped = String::from("input,normalized,reason\n");
    for (input, outcome) in audience.iter().zip(split.outcomes()) {
        let normalized = outcome.address().map(|a| a.to_string()).unwrap_or_default();
        match outcome.skip_reason() {
            None => expected_sendable.push_str(&format!("{input},{normalized}\n")),
            Some(r) => expected_skipped.push_str(&format!("{input},{normalized},{r}\n")),
        }
    }
    assert!(split.report().duplicate > 40_000);
    assert_eq!(read(d, "o/sendable.csv"), expected_sendable);
    assert_eq!(read(d, "o/skipped.csv"), expected_skipped);
}
