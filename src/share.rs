//! Topologies in URLs: the sandbox's "share" button puts the topology,
//! compressed, in the page's fragment (`#t=...`), and opening such a link
//! restores it. Anyone can craft a link, so decoding is bounded (a link of
//! at most [`MAX_FRAGMENT`] characters, inflating to at most [`MAX_TEXT`]
//! bytes, stopped as soon as it would pass it), and [`open`] then loads the
//! text with the same checks and limits as a file, and estimates its run, so
//! a hostile link is refused with a message, quickly.
//!
//! No I/O: front ends pass the fragment in and get text or a message out.

use crate::budget::{self, Limits};
use crate::time::SEC;
use crate::topology::{self, Loaded};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest fragment accepted (browsers and chat apps cut long URLs).
pub const MAX_FRAGMENT: usize = 32 * 1024;
/// Longest topology text a fragment may expand to.
pub const MAX_TEXT: usize = 1024 * 1024;
/// Memory a shared topology's simulation may take in [`open`] (a browser
/// tab has a few gigabytes at most, shared with everything else).
pub const MAX_MEMORY: u64 = 512 << 20;

/// `t=` + the topology text, deflated and base64url-encoded.
pub fn encode(text: &str) -> Result<String, String> {
    let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    let s = format!("t={}", URL_SAFE_NO_PAD.encode(packed));
    if s.len() > MAX_FRAGMENT {
        return Err(format!(
            "this topology is too large to share in a link ({} characters compressed, the limit is {MAX_FRAGMENT}); download it as a file instead",
            s.len()
        ));
    }
    Ok(s)
}

/// The topology text in a fragment (without the `#`), if it holds one.
pub fn decode(fragment: &str) -> Option<Result<String, String>> {
    let body = fragment.strip_prefix("t=")?;
    Some(decode_body(body))
}

fn decode_body(body: &str) -> Result<String, String> {
    if body.len() > MAX_FRAGMENT {
        return Err(format!(
            "the link's topology is {} characters, over the limit of {MAX_FRAGMENT}",
            body.len()
        ));
    }
    let packed = URL_SAFE_NO_PAD
        .decode(body.trim_end_matches('='))
        .map_err(|e| format!("the link is damaged (not base64url: {e}); copy the whole link"))?;
    let raw =
        miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_TEXT).map_err(|_| {
            format!("the link is damaged or expands past {MAX_TEXT} bytes; copy the whole link")
        })?;
    String::from_utf8(raw).map_err(|_| "the link's topology is not UTF-8 text".to_string())
}

/// Decodes a fragment, loads its topology (named `name` in messages) and
/// checks that a minute of its simulation fits the sandbox's budgets:
/// `None` when the fragment holds no topology, else the loaded topology or
/// every reason it is refused, as text to show.
pub fn open(name: &str, fragment: &str) -> Option<Result<(String, Loaded), String>> {
    let text = match decode(fragment)? {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    let loaded = match topology::load_str(name, &text) {
        Ok(l) => l,
        Err(d) => {
            return Some(Err(format!(
                "the shared link's topology does not load:\n{d}"
            )));
        }
    };
    let limits = Limits {
        max_memory: MAX_MEMORY,
        ..Limits::default()
    };
    let estimate = budget::estimate(&loaded.model, &budget::Run::plain(60 * SEC, SEC));
    if let Err(r) = estimate.check(&limits, "the event budget", "the sandbox's memory") {
        return Some(Err(format!(
            "the shared link's topology is too big to simulate here: {r}"
        )));
    }
    Some(Ok((text, loaded)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_explains_damage() {
        let text = include_str!("../topologies/journey/05-cache.ron");
        let frag = encode(text).unwrap();
        assert!(
            frag.len() < text.len(),
            "compressed: {} < {}",
            frag.len(),
            text.len()
        );
        assert_eq!(decode(&frag).unwrap().unwrap(), text);
        assert!(decode("stage=cdn").is_none());
        assert!(decode("t=!!!").unwrap().unwrap_err().contains("damaged"));
        let cut = &frag[..frag.len() / 2];
        assert!(decode(cut).unwrap().is_err());
        let huge = "a".repeat(MAX_FRAGMENT + 1);
        assert!(
            decode(&format!("t={huge}"))
                .unwrap()
                .unwrap_err()
                .contains("over the limit")
        );
        // A bomb: a small link that would expand past the limit.
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b' '; MAX_TEXT + 10], 9);
        let frag = format!("t={}", URL_SAFE_NO_PAD.encode(bomb));
        assert!(decode(&frag).unwrap().unwrap_err().contains("expands past"));
    }

    #[test]
    fn open_loads_and_refuses() {
        let text = include_str!("../topologies/journey/05-cache.ron");
        let (back, loaded) = open("shared link", &encode(text).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(back, text);
        assert!(!loaded.model.nodes.is_empty());
        assert!(open("shared link", "stage=cdn").is_none());
        let bad = open("shared link", &encode("Topology(name: 1)").unwrap())
            .unwrap()
            .unwrap_err();
        assert!(bad.contains("does not load"), "{bad}");
        assert!(bad.contains("shared link:1:"), "{bad}");
    }
}
