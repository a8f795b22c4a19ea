//! The harness binary survives a request line nested far deeper than any message it could
//! parse (harness.rs `MAX_REQUEST_DEPTH`): it answers `errored` and serves the next request.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use daskwire_rs::harness::MAX_REQUEST_DEPTH;
use serde_json::Value as Json;

#[test]
fn a_six_megabyte_deep_line_is_errored_and_the_next_request_served() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_daskwire-rs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the harness binary starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut reply = || {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str::<Json>(&line).expect("a JSON reply line")
    };

    // An unknown field holding 3,000,000 `[`: 6 MB, ten times the bound.
    let deep = "[".repeat(3_000_000);
    const { assert!(3_000_000 > MAX_REQUEST_DEPTH) };
    writeln!(
        stdin,
        r#"{{"seq":1,"cmd":"encode","message":[1],"options":{{}},"junk":{deep}{}}}"#,
        "]".repeat(3_000_000)
    )
    .unwrap();
    let first = reply();
    assert_eq!(first["seq"], 1);
    assert_eq!(first["outcome"], "errored", "{first}");

    // The same, never closed.
    writeln!(stdin, r#"{{"seq":2,"cmd":"encode","junk":{deep}"#).unwrap();
    let second = reply();
    assert_eq!(second["seq"], 2);
    assert_eq!(second["outcome"], "errored", "{second}");

    writeln!(
        stdin,
        r#"{{"seq":3,"cmd":"encode","message":[1],"options":{{"compression":null}}}}"#
    )
    .unwrap();
    let third = reply();
    assert_eq!(third["seq"], 3);
    assert_eq!(third["outcome"], "ok", "{third}");
    assert_eq!(third["result"]["frames"], serde_json::json!(["", "9101"]));

    writeln!(stdin, r#"{{"seq":4,"cmd":"stop"}}"#).unwrap();
    assert_eq!(reply()["outcome"], "ok");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
