//! The browser: files through the page (picker, drag and drop, downloads),
//! autosave to local storage, share links, and the self-test hook that
//! compares the engine's report with the native one.
//!
//! The page (`web/index.html`) defines `window.bottleneckDownload`,
//! `window.bottleneckPickFile` and `window.bottleneckShare`; it calls the
//! functions exported here.

use crate::{SandboxRes, UiRes, share};
use bevy::prelude::*;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    static INBOX: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
    static LATEST: RefCell<(String, String)> = const { RefCell::new((String::new(), String::new())) };
    static BENCH: RefCell<bool> = const { RefCell::new(false) };
}

const KEY_TOPOLOGY: &str = "bottleneck.topology";
const KEY_SESSION: &str = "bottleneck.session";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = window, js_name = bottleneckDownload)]
    fn download(name: &str, text: &str);
    #[wasm_bindgen(js_namespace = window, js_name = bottleneckPickFile)]
    fn pick_file();
    #[wasm_bindgen(js_namespace = window, js_name = bottleneckShare)]
    fn share_link(fragment: &str);
}

/// Opens topology text (a picked or dropped file): called by the page.
#[wasm_bindgen]
pub fn open_text(name: String, text: String) {
    INBOX.with(|i| i.borrow_mut().push((name, text)));
}

/// The current topology as RON (what autosave keeps).
#[wasm_bindgen]
pub fn current_topology() -> String {
    LATEST.with(|l| l.borrow().0.clone())
}

/// The current session as a scenario file.
#[wasm_bindgen]
pub fn current_session() -> String {
    LATEST.with(|l| l.borrow().1.clone())
}

/// The report of the fixed scripted session, for the cross-target test.
#[wasm_bindgen]
pub fn selftest_report() -> String {
    bottleneck::selftest::scripted_report()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// True when the page asks for the self-test only (`?selftest`).
pub fn selftest_mode() -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|s| s.contains("selftest"))
}

/// A value of the page's query string (`?build=cache-aside:12`).
pub fn query_value(key: &str) -> Option<String> {
    let query = web_sys::window()?.location().search().ok()?;
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

/// The benchmark the page's address asks for, if any (see [`crate::parse_bench`]).
/// Autosave is off while it runs.
pub fn bench_params() -> Option<crate::BenchParams> {
    let query = web_sys::window()?.location().search().ok()?;
    let b = crate::parse_bench(&query)?;
    BENCH.with(|x| *x.borrow_mut() = true);
    Some(b)
}

/// A benchmark's result: to the console and to `data-bench` on the body.
pub fn bench_done(r: &crate::BenchResult) {
    let line = format!("bottleneck bench: {}", r.line());
    web_sys::console::log_1(&line.clone().into());
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-bench", &line);
    }
}

/// What to open at start: a shared link's topology, a `#stage=` key, the
/// autosaved topology, or the cache-aside stage. The second value is an
/// error to show (a damaged link), the first still something to open.
pub fn initial() -> ((String, String), Option<String>) {
    let default = || {
        let st = crate::content::find("cache-aside").expect("bundled");
        (st.file.to_string(), st.text.to_string())
    };
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let fragment = hash.trim_start_matches('#');
    if let Some(opened) = share::open("shared link", fragment) {
        // Decoded within its caps, loaded (linear in its size), and its run
        // estimated to fit a browser tab, or refused with the reason.
        return match opened {
            Ok((text, _)) => (("shared link".into(), text), None),
            Err(e) => (default(), Some(e)),
        };
    }
    if let Some(key) = fragment.strip_prefix("stage=") {
        return match crate::content::find(key) {
            Some(st) => ((st.file.into(), st.text.into()), None),
            None => (default(), Some(format!("no bundled stage `{key}`"))),
        };
    }
    if let Some(text) = storage().and_then(|s| s.get_item(KEY_TOPOLOGY).ok().flatten())
        && bottleneck::topology::load_str("autosaved", &text).is_ok()
    {
        return (("autosaved".into(), text), None);
    }
    (default(), None)
}

/// Requests from the interface to the page.
pub enum PageRequest {
    /// The file picker.
    Open,
    /// Download the topology.
    DownloadTopology,
    /// Download the session as a scenario.
    DownloadSession,
    /// Put the topology in the URL and copy it.
    Share,
}

/// Does what the interface asked of the page.
pub fn request(r: PageRequest, s: &mut crate::sandbox::Sandbox) {
    match r {
        PageRequest::Open => pick_file(),
        PageRequest::DownloadTopology => download("topology.ron", &s.topology_text()),
        PageRequest::DownloadSession => {
            let (scenario, topology) = s.session("topology.ron");
            download("topology.ron", &topology);
            download("session.scenario.ron", &scenario);
        }
        PageRequest::Share => match share::encode(&s.topology_text()) {
            Ok(f) => {
                share_link(&f);
                s.status = Some((
                    "the link to this topology is in the address bar (and copied)".into(),
                    false,
                ));
            }
            Err(e) => s.status = Some((e, true)),
        },
    }
}

/// Inbox, autosave.
pub struct WebPlugin;

impl Plugin for WebPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, (inbox, autosave, first_frame, title));
    }
}

/// Keeps the page's title on the open topology (tests read it too).
fn title(sb: Res<SandboxRes>, mut last: Local<String>) {
    let s = sb.lock();
    if s.title == *last {
        return;
    }
    last.clone_from(&s.title);
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        doc.set_title(&format!("{} · Bottleneck", s.title));
    }
}

/// Marks the first frame on the page (`data-first-frame` on the body, in
/// ms since navigation) and removes the loading note.
fn first_frame(mut done: Local<bool>, mut frames: Local<u32>) {
    *frames += 1;
    if *done || *frames < 2 {
        return;
    }
    *done = true;
    let Some(w) = web_sys::window() else { return };
    let ms = w.performance().map_or(0.0, |p| p.now());
    if let Some(doc) = w.document() {
        if let Some(body) = doc.body() {
            let _ = body.set_attribute("data-first-frame", &format!("{ms:.0}"));
        }
        if let Some(l) = doc.get_element_by_id("loading") {
            l.remove();
        }
    }
    web_sys::console::log_1(&format!("bottleneck: first frame at {ms:.0} ms").into());
}

fn inbox(mut st: ResMut<UiRes>) {
    INBOX.with(|i| {
        if let Some(f) = i.borrow_mut().pop() {
            st.0.open = Some(f);
        }
    });
}

fn autosave(time: Res<Time>, sb: Res<SandboxRes>, mut since: Local<f64>) {
    *since += time.delta_secs_f64();
    if *since < 2.0 || BENCH.with(|b| *b.borrow()) {
        return;
    }
    *since = 0.0;
    let (topology, session) = {
        let s = sb.lock();
        (s.topology_text(), s.session("topology.ron").0)
    };
    if let Some(s) = storage() {
        let _ = s.set_item(KEY_TOPOLOGY, &topology);
        let _ = s.set_item(KEY_SESSION, &session);
    }
    LATEST.with(|l| *l.borrow_mut() = (topology, session));
}
