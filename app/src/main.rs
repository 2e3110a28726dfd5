//! `bottleneck-app`: the desktop sandbox.
//!
//! ```text
//! bottleneck-app                              # the cache-aside stage
//! bottleneck-app --stage single-server        # a bundled stage (see the Journey menu)
//! bottleneck-app my-topology.ron              # your own file
//! bottleneck-app --stage cache-aside --rps 14000 --speed 100 --screenshot shot.png --at 40
//! bottleneck-app --stage web-stack --rps 330000 --bench 20   # frames, frozen frames, events per second
//! ```

use bottleneck_app::{content, sandbox::Sandbox};

/// In the browser: open what the page's address or local storage holds.
#[cfg(target_arch = "wasm32")]
fn main() {
    if bottleneck_app::web::selftest_mode() {
        return;
    }
    use bottleneck_app::{Script, ScriptPlugin};
    let st = content::find("cache-aside").expect("bundled");
    let bench = bottleneck_app::web::bench_params();
    let mut s = match &bench {
        // `?bench=20&rps=330000`: a bundled stage, measured (see BENCHMARKS.md).
        Some(b) => {
            let stage = content::find(&b.stage).unwrap_or(st);
            let mut s = Sandbox::open(stage.file, stage.text, 1).expect("the bundled stage opens");
            s.speed = b.speed;
            if let Some(r) = b.rps {
                s.set_rps(r);
            }
            s
        }
        None => {
            let ((origin, text), err) = bottleneck_app::web::initial();
            let mut s = Sandbox::open(&origin, &text, 1)
                .or_else(|_| Sandbox::open(st.file, st.text, 1))
                .expect("the bundled stage opens");
            if let Some(e) = err {
                s.status = Some((e, true));
            }
            s
        }
    };
    // `?build=cache-aside[:STEPS]`: the README's walk-through, replayed.
    let mut builder = bottleneck_app::builder::Builder::new(&s);
    if let Some(spec) = bottleneck_app::web::query_value("build") {
        use bottleneck_app::builder::walk;
        let r = walk::parse_build(&spec).and_then(|n| walk::build_steps(&mut s, &mut builder, n));
        if let Err(e) = r {
            s.status = Some((format!("?build={spec}: {e}"), true));
        }
    }
    let mut app = bottleneck_app::app(s);
    app.insert_resource(bottleneck_app::UiRes(bottleneck_app::ui::UiState {
        builder,
        ..Default::default()
    }));
    if let Some(b) = bench {
        let mut script = Script::default();
        script.bench = Some(b.seconds);
        app.add_plugins(ScriptPlugin(script));
    }
    app.run();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use bottleneck_app::{Script, ScriptPlugin};
    use std::process::ExitCode;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut stage = "cache-aside".to_string();
    let mut file: Option<String> = None;
    let mut script = Script::default();
    let mut rps: Option<f64> = None;
    let mut speed = 1.0f64;
    let mut scripted = false;
    let mut build: Option<String> = None;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| {
            it.next().unwrap_or_else(|| {
                eprintln!("error: {name} needs a value");
                std::process::exit(2)
            })
        };
        let num = |s: String, name: &str| -> f64 {
            s.parse().unwrap_or_else(|_| {
                eprintln!("error: {name} takes a number, not `{s}`");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--stage" => stage = val("--stage"),
            "--rps" => rps = Some(num(val("--rps"), "--rps")),
            "--speed" => {
                let v = val("--speed");
                speed = if v == "max" {
                    f64::INFINITY
                } else {
                    num(v, "--speed")
                };
            }
            "--screenshot" => {
                script.screenshot = Some(val("--screenshot").into());
                scripted = true;
            }
            "--at" => script.at = num(val("--at"), "--at"),
            "--add-cache" => script.add_cache = Some(val("--add-cache")),
            "--select" => script.select = Some(val("--select")),
            "--build" => build = Some(val("--build")),
            "--lesson" => script.lesson = Some(num(val("--lesson"), "--lesson") as usize),
            "--bench" => {
                script.bench = Some(num(val("--bench"), "--bench"));
                scripted = true;
            }
            "-h" | "--help" => {
                println!(
                    "bottleneck-app [FILE.ron] [--stage KEY] [--rps N] [--speed X|max] [--select ID] [--build cache-aside[:STEPS]]\n               [--lesson N] [--screenshot OUT.png --at SIM_SECONDS [--add-cache DB]] [--bench WALL_SECONDS]\nstages:"
                );
                for s in content::all() {
                    println!("  {:<22} {}", s.key, s.title);
                }
                return ExitCode::SUCCESS;
            }
            f if !f.starts_with('-') => file = Some(f.to_string()),
            other => {
                eprintln!("error: unknown option `{other}`\n   = hint: see --help");
                return ExitCode::from(2);
            }
        }
    }
    let opened = match &file {
        Some(f) => match std::fs::read_to_string(f) {
            Ok(text) => Sandbox::open(f, &text, 1),
            Err(e) => Err(format!("cannot read {f}: {e}")),
        },
        None => match content::find(&stage) {
            Some(st) => Sandbox::open(st.file, st.text, 1).map(|mut s| {
                s.title = format!("{} ({})", s.title, st.title);
                s
            }),
            None => Err(format!("no stage `{stage}`; see --help for the list")),
        },
    };
    let mut sandbox = match opened {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // `--build cache-aside`: the builder builds the stage from a blank
    // canvas first (the README's walk-through, for screenshots).
    let mut builder = bottleneck_app::builder::Builder::new(&sandbox);
    if let Some(spec) = build.as_deref() {
        use bottleneck_app::builder::walk;
        let n = match walk::parse_build(spec) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        if let Err(e) = walk::build_steps(&mut sandbox, &mut builder, n) {
            eprintln!("error: building {spec}: {e}");
            return ExitCode::from(1);
        }
    }
    sandbox.speed = speed;
    if let Some(r) = rps {
        sandbox.set_rps(r);
    }
    let mut app = bottleneck_app::app(sandbox);
    app.insert_resource(bottleneck_app::UiRes(bottleneck_app::ui::UiState {
        builder,
        ..Default::default()
    }));
    if scripted {
        app.add_plugins(ScriptPlugin(script));
    }
    match app.run() {
        bevy::app::AppExit::Success => ExitCode::SUCCESS,
        bevy::app::AppExit::Error(c) => ExitCode::from(c.get()),
    }
}
