//! `strata-site`: the browser side of the release site, from the `frontend` crate's compiled
//! WASM to `target/site` (`cargo xtask` compiles the WASM, then runs this).
//!
//! In order: the WASM is split per lazy route ([`wasm`]), bound to its JS glue (minified with
//! esbuild) and optimized with Binaryen's `wasm-opt`, while Tailwind builds the stylesheet beside it;
//! `public/` is copied; every
//! file under `pkg/` gets its content hash in its name and `hash.txt` (read by Leptos at run
//! time, beside the server binary) says which ([`hash`]); last, every file of the site gets a
//! gzip and a brotli copy ([`compress`]). The result is the layout cargo-leptos 0.3.10 wrote
//! with `build --release --split --precompress` and `hash-files = true`.

mod compress;
mod hash;
mod pool;
mod tool;
mod wasm;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};

/// What to build from where (all paths from the workspace root).
struct Args {
    /// `frontend.wasm` as cargo wrote it (linked with `--emit-relocs`, so it can be split).
    wasm: PathBuf,
    /// The site root (`target/site`), emptied first.
    site: PathBuf,
    /// Where `hash.txt` goes: beside the server binary.
    hash_file: PathBuf,
    /// The base name of the JS, WASM and CSS files.
    name: String,
    style: PathBuf,
    assets: PathBuf,
    /// A native Binaryen `wasm-opt` to run once per module; None: npm's Binaryen in `node`,
    /// one process per core (`optimize.mjs`).
    wasm_opt: Option<PathBuf>,
}

const USAGE: &str = "usage: strata-site --wasm FILE --site DIR --hash-file FILE --name NAME --style FILE --assets DIR [--wasm-opt FILE]";

fn args() -> Result<Args> {
    let mut pairs = std::env::args().skip(1);
    let (mut wasm, mut site, mut hash_file, mut name, mut style, mut assets) =
        (None, None, None, None, None, None);
    let mut wasm_opt = None;
    while let Some(flag) = pairs.next() {
        let value = pairs
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--wasm" => wasm = Some(PathBuf::from(value)),
            "--site" => site = Some(PathBuf::from(value)),
            "--hash-file" => hash_file = Some(PathBuf::from(value)),
            "--name" => name = Some(value),
            "--style" => style = Some(PathBuf::from(value)),
            "--assets" => assets = Some(PathBuf::from(value)),
            "--wasm-opt" => wasm_opt = Some(PathBuf::from(value)),
            _ => bail!("unknown flag {flag}\n{USAGE}"),
        }
    }
    let need =
        |v: Option<PathBuf>, flag: &str| v.with_context(|| format!("{flag} is missing\n{USAGE}"));
    Ok(Args {
        wasm: need(wasm, "--wasm")?,
        site: need(site, "--site")?,
        hash_file: need(hash_file, "--hash-file")?,
        name: name.with_context(|| format!("--name is missing\n{USAGE}"))?,
        style: need(style, "--style")?,
        assets: need(assets, "--assets")?,
        wasm_opt,
    })
}

fn main() {
    if let Err(e) = build(&args().unwrap_or_else(|e| fail(&e))) {
        fail(&e);
    }
}

fn fail(e: &anyhow::Error) -> ! {
    eprintln!("strata-site: {e:#}");
    std::process::exit(1)
}

fn build(args: &Args) -> Result<()> {
    let started = Instant::now();
    if args.site.exists() {
        std::fs::remove_dir_all(&args.site)
            .with_context(|| format!("cannot empty {}", args.site.display()))?;
    }
    let pkg = args.site.join("pkg");
    std::fs::create_dir_all(&pkg).with_context(|| format!("cannot create {}", pkg.display()))?;
    let css = pkg.join(format!("{}.css", args.name));
    let (split, style) = std::thread::scope(|s| {
        let style = s.spawn(|| tailwind(&args.style, &css));
        let split = wasm::build(
            &args.wasm,
            &pkg,
            &args.name,
            args.wasm_opt.as_deref(),
            started,
        );
        let style = style
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the stylesheet build panicked")));
        (split, style)
    });
    let split = split?;
    style?;
    tool::progress("WASM and stylesheet done", started);
    copy_assets(&args.assets, &args.site)?;
    let hashes = hash::rename_all(&pkg, &args.name, &split)?;
    if let Some(dir) = args.hash_file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&args.hash_file, hashes.file_text())
        .with_context(|| format!("cannot write {}", args.hash_file.display()))?;
    tool::progress("hashed names done", started);
    compress::all(&args.site)?;
    tool::progress("gzip and brotli copies done", started);
    Ok(())
}

/// Tailwind's CLI from node_modules (minified; Tailwind 4 minifies with lightningcss).
fn tailwind(input: &Path, output: &Path) -> Result<()> {
    let mut cmd = Command::new("tailwindcss");
    cmd.arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output)
        .arg("--minify");
    tool::run(cmd, "tailwindcss")
}

/// Copies `public/` into the site root (never over `pkg/`).
fn copy_assets(from: &Path, to: &Path) -> Result<()> {
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_name() == "pkg" {
            bail!(
                "{} may not hold a pkg folder: the site's code goes there",
                from.display()
            );
        }
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_assets(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}
