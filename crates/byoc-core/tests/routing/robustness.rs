//! Arbitrary input never panics the loaders, the router or the templates.

use super::*;

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_loaders(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Workstream::from_json_slice(&bytes);
        let _ = Workstream::from_toml_str(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_fixture_never_panics(cut in 0usize..2000, insert in "[ -~]{0,8}") {
        let mut text = TOML.to_owned();
        let at = text.char_indices().map(|(i, _)| i).nth(cut % TOML.len()).unwrap_or(0);
        text.insert_str(at, &insert);
        if let Ok(ws) = Workstream::from_toml_str(&text) {
            let c = conv();
            let d = route(&c, &ws, &all_free());
            let _ = d.explain();
            for kind in MessageKind::ALL {
                let _ = ws.render_message(kind, &c, &MessageValues::default());
            }
        }
    }

    #[test]
    fn templates_never_panic(template in "\\PC{0,40}") {
        let _ = byoc_core::workstream::placeholders(&template);
    }
}
