//! Project commands (the xtask pattern): build the web app, serve it, run every test.
//!
//! ```text
//! cargo xtask serve [--port 8080]   build dist/ and serve it on 127.0.0.1
//! cargo xtask dist                  build dist/ only
//! cargo xtask test                  fmt, clippy (native + wasm32), module cycles, native tests, dist, browser tests
//! cargo xtask cycles                the module graph of the crate, and any import cycle in it
//! cargo xtask bench-web             in-browser training-step benchmark (WebGPU, wasm CPU, native)
//! ```
//!
//! Everything it needs is installed on first use: the wasm32 target (rustup), the
//! `wasm-bindgen-cli` whose version equals the `wasm-bindgen` in Cargo.lock (into `tools/`),
//! and the npm packages pinned in `package-lock.json` (playwright-core, binaryen's wasm-opt).

mod cycles;
mod serve;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

type Result<T> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask <serve [--port N] | dist | test | cycles | bench-web>";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let root = project_root();
    std::env::set_current_dir(&root)
        .map_err(|e| format!("cannot enter {}: {e}", root.display()))?;
    match args.first().map(String::as_str) {
        Some("dist") if args.len() == 1 => dist(&root).map(|_| ()),
        Some("serve") => {
            let port = parse_port(&args[1..])?;
            let dist = dist(&root)?;
            serve::serve(&dist, port, |url| {
                println!("theorylab is running at {url}  (Ctrl-C stops it)")
            })
        }
        Some("test") if args.len() == 1 => test(&root),
        Some("cycles") if args.len() == 1 => check_cycles(&root),
        Some("bench-web") if args.len() == 1 => bench_web(&root),
        Some(other) => Err(format!("unknown command or option '{other}'\n{USAGE}")),
        None => Err(USAGE.into()),
    }
}

fn parse_port(args: &[String]) -> Result<u16> {
    match args {
        [] => Ok(8080),
        [flag, value] if flag == "--port" => value
            .parse()
            .map_err(|_| format!("--port: '{value}' is not a port number (0-65535)")),
        [other, ..] => Err(format!("unknown option '{other}'\n{USAGE}")),
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in a subfolder of the project")
        .to_path_buf()
}

/// Runs a command, failing with its name if it cannot start or exits non-zero.
fn sh(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}").replace('"', "");
    println!("xtask: $ {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // Mesa's Vulkan loader warns on every start without it.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        cmd.env("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    cmd
}

/// The version of `package` in Cargo.lock.
fn locked_version(root: &Path, package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let header = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&header)
        .ok_or_else(|| format!("{package} is not in Cargo.lock"))?
        + header.len();
    Ok(lock[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string())
}

fn ensure_wasm_target() -> Result<()> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == WASM_TARGET) {
        sh(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    Ok(())
}

/// `tools/bin/wasm-bindgen` at exactly the version of the `wasm-bindgen` crate in Cargo.lock
/// (the CLI and the crate must match), installed on first use.
fn ensure_wasm_bindgen(root: &Path) -> Result<PathBuf> {
    let version = locked_version(root, "wasm-bindgen")?;
    let bin = root.join("tools/bin/wasm-bindgen");
    let have = output(Command::new(&bin).arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) != Some(version.as_str()) {
        println!("xtask: installing wasm-bindgen-cli {version} into tools/ (once, a few minutes)");
        sh(cargo().args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &version,
            "--root",
            "tools",
        ]))?;
    }
    Ok(bin)
}

/// npm packages from package-lock.json (playwright-core, binaryen), installed when missing or
/// when the lock file is newer than the install.
fn ensure_npm(root: &Path) -> Result<()> {
    let stamp = root.join("node_modules/.package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (modified(&stamp), modified(&root.join("package-lock.json"))) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    if !fresh {
        sh(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]))?;
    }
    Ok(())
}

/// Builds the web app into `dist/`: wasm32 release build (profile `web`), wasm-bindgen
/// `--target web`, wasm-opt -Oz (binaryen from npm), then index.html and www/.
fn dist(root: &Path) -> Result<PathBuf> {
    let started = Instant::now();
    ensure_wasm_target()?;
    let wasm_bindgen = ensure_wasm_bindgen(root)?;
    ensure_npm(root)?;
    sh(cargo().args([
        "build",
        "--lib",
        "--package",
        "theorylab",
        "--target",
        WASM_TARGET,
        "--profile",
        "web",
    ]))?;
    let dist = root.join("dist");
    if dist.exists() {
        std::fs::remove_dir_all(&dist).map_err(|e| format!("cannot clear dist/: {e}"))?;
    }
    let pkg = dist.join("pkg");
    let wasm = root.join(format!("target/{WASM_TARGET}/web/theorylab.wasm"));
    sh(Command::new(&wasm_bindgen)
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&pkg)
        .arg(&wasm))?;
    let bg = pkg.join("theorylab_bg.wasm");
    let raw = file_size(&bg)?;
    // Binaryen from npm; Debian's wasm-opt 108 silently breaks these modules.
    sh(Command::new(root.join("node_modules/.bin/wasm-opt"))
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
            "--enable-simd",
        ])
        .arg(&bg)
        .arg("-o")
        .arg(&bg))?;
    copy(&root.join("index.html"), &dist.join("index.html"))?;
    // The digits data set, which the page fetches beside its wasm (not compiled into it).
    copy(
        &root.join("data/optdigits.csv.gz"),
        &dist.join("data/optdigits.csv.gz"),
    )?;
    for entry in std::fs::read_dir(root.join("www")).map_err(|e| format!("www/: {e}"))? {
        let path = entry.map_err(|e| format!("www/: {e}"))?.path();
        if path.is_file() {
            copy(
                &path,
                &dist.join("www").join(path.file_name().unwrap_or_default()),
            )?;
        }
    }
    let opt = file_size(&bg)?;
    println!(
        "xtask: dist/ ready in {:.0} s: wasm {} KiB after wasm-bindgen, {} KiB after wasm-opt -Oz, {} KiB gzipped",
        started.elapsed().as_secs_f64(),
        raw / 1024,
        opt / 1024,
        gzip_size(&bg).map_or("?".into(), |s| (s / 1024).to_string()),
    );
    Ok(dist)
}

fn file_size(path: &Path) -> Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn gzip_size(path: &Path) -> Option<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// Installs Debian packages when `present` says they are missing (needs root, as in CI).
fn ensure_apt(what: &str, present: bool, packages: &[&str]) -> Result<()> {
    if present {
        return Ok(());
    }
    println!(
        "xtask: installing {what} from Debian ({})",
        packages.join(" ")
    );
    sh(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
    .or_else(|_| {
        sh(Command::new("apt-get").args(["update", "-qq"]))?;
        sh(Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    })
    .map_err(|e| {
        format!(
            "{e}: install {} (as root) and run again",
            packages.join(" ")
        )
    })
}

/// Debian's chromium, which the browser tests drive (no browser download works here).
fn ensure_chromium() -> Result<()> {
    ensure_apt("Chromium", Path::new(CHROMIUM).exists(), &["chromium"])
}

/// Mesa's lavapipe, a Vulkan driver on the CPU, so that the GPU backend's tests really run.
fn ensure_lavapipe() -> Result<()> {
    let present = std::fs::read_dir("/usr/share/vulkan/icd.d")
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("lvp_icd"))
        })
        .unwrap_or(false);
    ensure_apt(
        "the lavapipe Vulkan driver",
        present,
        &["mesa-vulkan-drivers", "libvulkan1"],
    )
}

/// Everything CI checks: formatting, clippy on both targets, native tests, the web build and
/// the browser tests.
fn test(root: &Path) -> Result<()> {
    ensure_wasm_target()?;
    ensure_lavapipe()?;
    ensure_chromium()?;
    sh(cargo().args(["fmt", "--all", "--check"]))?;
    sh(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    sh(cargo().args([
        "clippy",
        "--lib",
        "--package",
        "theorylab",
        "--target",
        WASM_TARGET,
        "--",
        "-D",
        "warnings",
    ]))?;
    check_cycles(root)?;
    sh(cargo().args(["test", "--workspace", "--all-targets"]))?;
    sh(cargo().args(["build", "--release", "--bin", "theorylab"]))?;
    let dist = dist(root)?;
    with_server(&dist, |url| {
        sh(Command::new("node")
            .arg("www/tests/browser.mjs")
            .arg(url)
            .env("THEORYLAB_CLI", root.join("target/release/theorylab"))
            .env("SCREENSHOTS", root.join("target/screenshots")))
    })
}

/// Fails when the modules of the library or of the CLI import each other in a circle.
fn check_cycles(root: &Path) -> Result<()> {
    let mut found = 0;
    for crate_root in ["src/lib.rs", "src/main.rs"] {
        let path = root.join(crate_root);
        let (modules, edges, cycles) = cycles::cycles(&path)?;
        println!(
            "xtask: {crate_root}: {modules} modules, {edges} import edges, {} cycles",
            cycles.len()
        );
        for cycle in &cycles {
            println!("  cycle: {}", cycle.join(", "));
            for edge in cycles::explain(&path, cycle) {
                println!("    {edge}");
            }
        }
        found += cycles.len();
    }
    match found {
        0 => Ok(()),
        n => Err(format!(
            "{n} import cycles among the modules (listed above)"
        )),
    }
}

/// The in-browser benchmark: one training step of the same config on WebGPU, on the wasm CPU
/// backend and natively, printed side by side.
fn bench_web(root: &Path) -> Result<()> {
    sh(cargo().args(["build", "--release", "--bin", "theorylab"]))?;
    let dist = dist(root)?;
    ensure_chromium()?;
    with_server(&dist, |url| {
        sh(Command::new("node")
            .arg("bench/browser.mjs")
            .arg(url)
            .env("THEORYLAB_CLI", root.join("target/release/theorylab")))
    })
}

/// Serves `dist` on an ephemeral port of 127.0.0.1 while `f` runs.
fn with_server(dist: &Path, f: impl FnOnce(&str) -> Result<()>) -> Result<()> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
    let url = format!(
        "http://{}/",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let dist = dist.to_path_buf();
    std::thread::spawn(move || serve::accept(listener, &dist));
    f(&url)
}
