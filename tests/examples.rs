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
        "(415) 555-0100\n+1 415 555 0101\n415.555.0102\n415-555-0103\n1 415 555 0103\n+14155550104\nANN@example.com\nbob@example.com\nbob@\n12\n=HYPERLINK(\"x\")\n",
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
        "3 sendable, 8 skipped (3 opted-out, 1 blocked, 2 invalid number, 1 invalid email, 1 duplicate)"
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
         '+1 415 555 0101,+14155550101,Optout Number\n\
         415.555.0102,+14155550102,Blocked\n\
         1 415 555 0103,+14155550103,Duplicate\n\
         ANN@example.com,ann@example.com,Optout Number\n\
         bob@,,Invalid Email\n\
         12,,Invalid Number\n\
         \"'=HYPERLINK(\"\"x\"\")\",,Invalid Number\n"
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
        &format!("address,list,scope\n+14155550100,,{}\n", "x".repeat(101)),
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
    let input = "+14155550123\tsms1\tSTOP\n\
                 +14155550123\tsms1\tstop\n\
                 +14155550123\tsms1\tSTART\n\
                 +14155550124\tsms1\tSTART\n\
                 +14155550124\tsms1\tHELP\n\
                 +14155550125\t+14155550100\tSTOP\n\
                 +14155550125\twa:1065403\tSTART\n\
                 bogus\tsms1\tSTOP\n\
                 +14155550126\tsms1\tdon't stop the deals\n\
                 +14155550127\tsms1\tremove me\n\
                 +14155550128\tsms1\tPlease stop texting me\n";
    let result = run("inbound", &["--account-wide", "+14155550100"], input);
    assert!(result.status.success());
    let text = String::from_utf8(result.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let actions: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    // STOP on 202 is account-wide (enforcing), so START on 303 lifts nothing
    // there: START only acts in the scope it arrives in.
    assert_eq!(
        actions,
        [
            "opt-out", "opt-out", "opt-in", "none", "help", "opt-out", "none", "error", "none",
            "clarify", "opt-out"
        ]
    );
    assert!(!rows[0][2].is_empty());
    assert_eq!(
        rows[1][2], "",
        "a repeated STOP gets no second confirmation"
    );
    assert!(rows[2][2].contains("resubscribed"));
    assert!(
        rows[9][2].contains("Reply STOP"),
        "the clarification question"
    );
    assert!(String::from_utf8_lossy(&result.stderr).contains("line 8"));
}

/// A send that names no channel is suppressed by every channel's
/// opt-outs; channels are named as users name them.
#[test]
fn filter_without_a_channel_honours_every_channel() {
    let dir = tempfile::tempdir().unwrap();
    let optouts = write(
        dir.path(),
        "optouts.csv",
        "phone,scope\n+14155550100,sms1\n+14155550101,+14155550199\n",
    );
    let audience = write(
        dir.path(),
        "audience.txt",
        "+14155550100\n+14155550101\n+14155550102\n",
    );
    let out = dir.path().join("out").to_string_lossy().into_owned();
    let base = [
        "--optouts",
        &optouts,
        "--audience",
        &audience,
        "--category",
        "marketing",
        "--out",
        &out,
    ];
    let any = run("filter", &base, "");
    assert!(
        any.status.success(),
        "{}",
        String::from_utf8_lossy(&any.stderr)
    );
    assert_eq!(
        String::from_utf8(any.stdout).unwrap().trim(),
        "1 sendable, 2 skipped (opted-out)"
    );
    let mut on_sms1 = base.to_vec();
    on_sms1.extend(["--channel", "sms1"]);
    let sms1 = run("filter", &on_sms1, "");
    assert_eq!(
        String::from_utf8(sms1.stdout).unwrap().trim(),
        "2 sendable, 1 skipped (opted-out)"
    );
    let mut bad = base.to_vec();
    bad.extend(["--channel", "  "]);
    let refused = run("filter", &bad, "");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--channel"));
}

/// `--store DIR` keeps the opt-outs: a later run filters against them
/// without `--optouts`.
#[test]
fn filter_against_a_store_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").to_string_lossy().into_owned();
    let optouts = write(dir.path(), "optouts.csv", "phone\n+14155550100\n");
    let audience = write(dir.path(), "audience.txt", "+14155550100\n+14155550101\n");
    let out = dir.path().join("out").to_string_lossy().into_owned();
    let first = run(
        "filter",
        &[
            "--optouts",
            &optouts,
            "--store",
            &store,
            "--audience",
            &audience,
            "--category",
            "marketing",
            "--out",
            &out,
        ],
        "",
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = run(
        "filter",
        &[
            "--store",
            &store,
            "--audience",
            &audience,
            "--category",
            "marketing",
            "--out",
            &out,
        ],
        "",
    );
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        String::from_utf8(second.stdout).unwrap().trim(),
        "1 sendable, 1 skipped (opted-out)"
    );
}

/// `inbound --store DIR` keeps its state across runs, answers each line
/// only once it is on disk, and a second process on DIR is refused with a
/// message that names the lock.
#[test]
fn inbound_with_a_store_directory() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").to_string_lossy().into_owned();
    let first = run(
        "inbound",
        &["--store", &store],
        "+14155550123\tsms1\tSTOP\n",
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = run(
        "inbound",
        &["--store", &store],
        "+14155550123\tsms1\tSTART\n",
    );
    let text = String::from_utf8(again.stdout).unwrap();
    assert!(text.contains("\topt-in\t"), "{text}");

    // A running inbound holds the directory; a second one is refused.
    let mut holder = Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--example",
            "inbound",
            "--",
            "--store",
            &store,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = holder.stdin.take().unwrap();
    writeln!(stdin, "+14155550124\tsms1\tSTOP").unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("\topt-out\t"), "{line}");
    let second = run(
        "inbound",
        &["--store", &store],
        "+14155550125\tsms1\tSTOP\n",
    );
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("LOCK") && err.contains("in use"), "{err}");
    drop(stdin);
    assert!(holder.wait().unwrap().success());
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
