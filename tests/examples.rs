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
