//! Runs every example on small inputs and checks its output.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs an example through cargo, which builds it first if needed.
fn run(name: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", name, "--"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start example {name}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn normalize_writes_one_tsv_line_per_input() {
    let input = "+14155550123\n(415) 555-0123\nAnn@Example.com\nhello\n\n07911 123456\n";
    let out = run("normalize", &[], input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "+14155550123\tphone\t+14155550123\t14155550123",
            "(415) 555-0123\tphone\t+14155550123\t14155550123",
            "Ann@Example.com\temail\tann@example.com\t18446744069414584320",
            "hello\tinvalid\tinvalid number: not a phone number",
            "\tinvalid\tinvalid number: empty",
            "07911 123456\tinvalid\tinvalid number: too long",
        ]
    );
}

#[test]
fn normalize_takes_region_and_strictness() {
    let out = run(
        "normalize",
        &["--region", "GB", "--strict"],
        "07911 123456\n020 7946 0958\n",
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("07911 123456\tphone\t+447911123456\t447911123456\n"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2);
}

#[test]
fn normalize_rejects_a_bad_region() {
    let out = run("normalize", &["--region", "QQ"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown region"));
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn filter_args<'a>(optouts: &'a str, audience: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "--optouts",
        optouts,
        "--audience",
        audience,
        "--category",
        "marketing",
        "--channel",
        "101",
        "--out",
        out,
    ]
}

#[test]
fn filter_splits_files_into_sendable_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let optouts = write(
        dir.path(),
        "optouts.csv",
        "address,list,scope\n+14155550100,default,account\n(415) 555-0101,Promotions,101\n+14155550104,Promotions,202\nann@example.com,,account\n",
    );
    let blocked = write(dir.path(), "blocked.txt", "415-555-0102\n");
    let audience = write(
        dir.path(),
        "audience.txt",
        "(415) 555-0100\n+1 415 555 0101\n415.555.0102\n415-555-0103\n1 415 555 0103\n+14155550104\nANN@example.com\nbob@example.com\nbob@\n12\n",
    );
    let out = dir.path().join("out");
    let out_s = out.to_string_lossy().into_owned();
    let mut args = filter_args(&optouts, &audience, &out_s);
    args.extend(["--blocked", &blocked, "--lists", "Promotions"]);
    let result = run("filter", &args, "");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(
        String::from_utf8(result.stdout).unwrap().trim(),
        "3 sendable, 7 skipped (3 opted-out, 1 blocked, 1 invalid number, 1 invalid email, 1 duplicate)"
    );
    let sendable = std::fs::read_to_string(out.join("sendable.csv")).unwrap();
    assert_eq!(
        sendable,
        "input,normalized\n415-555-0103,+14155550103\n+14155550104,+14155550104\nbob@example.com,bob@example.com\n"
    );
    let skipped = std::fs::read_to_string(out.join("skipped.csv")).unwrap();
    assert_eq!(
        skipped,
        "input,normalized,reason\n\
         (415) 555-0100,+14155550100,Optout Number\n\
         +1 415 555 0101,+14155550101,Optout Number\n\
         415.555.0102,+14155550102,Blocked\n\
         1 415 555 0103,+14155550103,Duplicate\n\
         ANN@example.com,ann@example.com,Optout Number\n\
         bob@,,Invalid Email\n\
         12,,Invalid Number\n"
    );
}

#[test]
fn filter_errors_name_the_line_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let audience = write(dir.path(), "audience.txt", "+14155550100\n");
    let out = dir.path().join("out");
    let out_s = out.to_string_lossy().into_owned();

    let bad = write(
        dir.path(),
        "bad.csv",
        "address,list,scope\n+14155550100,,account\nnot a number,,account\n",
    );
    let result = run("filter", &filter_args(&bad, &audience, &out_s), "");
    assert!(!result.status.success());
    let err = String::from_utf8_lossy(&result.stderr);
    assert!(err.contains("bad.csv:3"), "{err}");
    assert!(!out.join("sendable.csv").exists() && !out.join("skipped.csv").exists());

    let scope = write(
        dir.path(),
        "scope.csv",
        "address,list,scope\n+14155550100,,everywhere\n",
    );
    let result = run("filter", &filter_args(&scope, &audience, &out_s), "");
    assert!(!result.status.success());
    assert!(String::from_utf8_lossy(&result.stderr).contains("scope.csv:2"));
    assert!(!out.join("sendable.csv").exists());

    let missing = dir.path().join("nope.csv").to_string_lossy().into_owned();
    let result = run("filter", &filter_args(&missing, &audience, &out_s), "");
    assert!(!result.status.success());
    assert!(String::from_utf8_lossy(&result.stderr).contains("cannot open"));

    let ok = write(dir.path(), "ok.csv", "address,list,scope\n");
    let mut args = filter_args(&ok, &audience, &out_s);
    args.extend(["--lists", "Nope"]);
    let result = run("filter", &args, "");
    assert!(!result.status.success());
    assert!(String::from_utf8_lossy(&result.stderr).contains("no list named"));
    assert!(!out.join("sendable.csv").exists() && !out.join("skipped.csv").exists());
}

#[test]
fn campaign_runs_on_built_in_data() {
    let result = run("campaign", &["--size", "20000"], "");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let text = String::from_utf8(result.stdout).unwrap();
    assert!(text.contains("marketing on SMS"), "{text}");
    assert!(text.contains("utility (order updates) on SMS"));
    assert!(text.contains("bytes per stored opt-out"));
    assert_eq!(text.matches(" sendable, ").count(), 3, "{text}");
}

#[test]
fn inbound_answers_each_line() {
    let input = "+14155550123\t101\tSTOP\n\
                 +14155550123\t101\tstop\n\
                 +14155550123\t101\tSTART\n\
                 +14155550124\t101\tSTART\n\
                 +14155550124\t101\tHELP\n\
                 +14155550125\t202\tSTOP\n\
                 +14155550125\t303\tSTART\n\
                 bogus\t101\tSTOP\n\
                 +14155550126\t101\tdon't stop the deals\n";
    let result = run("inbound", &["--account-wide", "202"], input);
    assert!(result.status.success());
    let text = String::from_utf8(result.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let actions: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    // STOP on 202 is account-wide (enforcing), so START on 303 lifts nothing
    // there: START only acts in the scope it arrives in.
    assert_eq!(
        actions,
        [
            "opt-out", "opt-out", "opt-in", "none", "help", "opt-out", "none", "none", "none"
        ]
    );
    assert!(!rows[0][2].is_empty());
    assert_eq!(
        rows[1][2], "",
        "a repeated STOP gets no second confirmation"
    );
    assert!(rows[2][2].contains("resubscribed"));
    assert!(String::from_utf8_lossy(&result.stderr).contains("line 8"));
}

#[test]
fn unsubscribe_prints_headers_and_records_one_click() {
    let result = run("unsubscribe", &["bob@example.com"], "");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let text = String::from_utf8(result.stdout).unwrap();
    assert!(
        text.contains("List-Unsubscribe:       <https://example.com/unsubscribe?token="),
        "{text}"
    );
    assert!(text.contains("List-Unsubscribe-Post:  List-Unsubscribe=One-Click"));
    assert!(text.contains("GET (prefetch):         ConfirmationNeeded"));
    assert!(text.contains("POST one-click:         recorded"));
    assert!(text.contains("second click:           AlreadyOptedOut"));
    assert!(
        !text.contains("token=bob"),
        "the address must not appear in the link"
    );
}
