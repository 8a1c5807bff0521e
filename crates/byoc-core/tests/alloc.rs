//! Opaque and unknown parts of an activity parsed with `Activity::from_bytes` cost no heap
//! allocation: they are slices of the input buffer. Counted with dhat's heap statistics (this
//! test binary only), not timed.

use byoc_core::Activity;
use bytes::Bytes;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn allocations_for(json: &str) -> u64 {
    let bytes = Bytes::from(json.to_owned());
    // Warm the per-type field indexes and the thread-local first.
    drop(Activity::from_bytes(bytes.clone()).expect("valid"));
    let before = dhat::HeapStats::get().total_blocks;
    let a = Activity::from_bytes(bytes).expect("valid");
    let after = dhat::HeapStats::get().total_blocks;
    drop(a);
    after - before
}

// dhat counts process-wide, so this binary holds one test function: no other test thread
// allocates while it counts.
#[test]
fn opaque_and_unknown_parts_do_not_allocate() {
    let _profiler = dhat::Profiler::builder().testing().build();

    let base = allocations_for(r#"{"type":"message","id":"m1","text":"hi"}"#);
    assert!(base >= 2, "id and text are owned strings ({base})");

    let big_channel_data = format!(
        r#"{{"type":"message","id":"m1","text":"hi","channelData":{{"a":[1,2,3,{{"b":"{}"}}],"c":{{"d":null,"e":[true,false]}}}},"value":{{"k":[{{"x":1}},{{"y":"z"}}]}}}}"#,
        "x".repeat(10_000)
    );
    // serde_json's deserializer allocates its scratch stack once per parse when it skips a
    // nested value; beyond that, opaque parts cost nothing, whatever their number and size.
    let small_nested =
        allocations_for(r#"{"type":"message","id":"m1","text":"hi","channelData":{"a":[1]}}"#);
    assert!(small_nested <= base + 1, "{small_nested} vs {base}");
    assert_eq!(
        allocations_for(&big_channel_data),
        small_nested,
        "channelData and value must not allocate"
    );
    let flat = allocations_for(
        r#"{"type":"message","id":"m1","text":"hi","channelData":{"a":1},"value":"v"}"#,
    );
    assert_eq!(flat, base, "flat opaque parts must not allocate");

    // Unknown fields: one allocation for the list that holds them, whatever their number (up
    // to four) and size; their keys and values are slices of the input.
    let with_unknown = r#"{"type":"message","id":"m1","text":"hi","x-a":{"deep":[1,2,{"q":"r"}]},"x-b":"s","x-c":[1,2,3],"x-d":null}"#;
    assert_eq!(allocations_for(with_unknown), small_nested + 1);

    // Explicit nulls of known fields are static: same single container allocation.
    let with_nulls = r#"{"type":"message","id":"m1","text":"hi","replyToId":null,"summary":null}"#;
    assert_eq!(allocations_for(with_nulls), base + 1);

    // Slices outlive the parse, and equal owned parsing.
    let json = br#"{"type":"message","channelData":{"k":"v"},"x-u":[1]}"#;
    let a = Activity::from_bytes(Bytes::from_static(json)).expect("valid");
    assert_eq!(
        a.channel_data.as_ref().map(|r| r.get()),
        Some(r#"{"k":"v"}"#)
    );
    assert_eq!(a.extensions.get("x-u").map(|r| r.get()), Some("[1]"));
    assert_eq!(Activity::from_slice(json).expect("valid"), a);
    // Not UTF-8: the same typed error as from_slice.
    assert!(Activity::from_bytes(Bytes::from_static(b"{\"type\":\"\xff\"}")).is_err());
}
