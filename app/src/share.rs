//! Topologies in URLs: the engine's share-link codec (`bottleneck::share`),
//! where its limits and tests live, so the CLI, the tests and the page use
//! one decoder. The "share" button puts the topology, compressed, in the
//! page's fragment (`#t=...`), and opening such a link restores it;
//! `open` also loads it and checks that its run fits a browser tab.

pub use bottleneck::share::{MAX_FRAGMENT, MAX_MEMORY, MAX_TEXT, decode, encode, open};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_stages_round_trip() {
        let text = crate::content::find("cache-aside").unwrap().text;
        let frag = encode(text).unwrap();
        assert!(frag.len() <= MAX_FRAGMENT && text.len() <= MAX_TEXT);
        assert_eq!(decode(&frag).unwrap().unwrap(), text);
    }
}
