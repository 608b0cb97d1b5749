//! The WASM: split per lazy route, bound to its JS glue, optimized.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result};

/// What the split left in `pkg/`, before any name is hashed.
pub struct Split {
    /// `split_<route>.wasm` and `chunk_<n>.wasm` (code two routes share).
    pub modules: Vec<PathBuf>,
    /// Route name -> the module stems it loads, e.g. `{"vms": ["chunk_3", "split_vms"]}`.
    pub manifest: HashMap<String, Vec<String>>,
}

/// The loader module's name until its content hash is known: 22 characters, as long as a hash
/// (the WASM modules import from it, so it is replaced in place, byte for byte).
pub const LOADER_PLACEHOLDER: &str = "______________________";

/// `__wasm_split.<placeholder>.js`
pub fn loader_name(hash: &str) -> String {
    format!("__wasm_split.{hash}.js")
}

/// Splits `input`, binds the main module (`<name>.js`, `<name>.wasm`) and optimizes every
/// module, all into `pkg`.
pub fn build(
    input: &Path,
    pkg: &Path,
    name: &str,
    wasm_opt: Option<&Path>,
    started: Instant,
) -> Result<Split> {
    let said = |what: &str| crate::tool::progress(what, started);
    let bytes = std::fs::read(input).with_context(|| {
        format!(
            "cannot read {} (the frontend crate's release WASM)",
            input.display()
        )
    })?;
    let main_out = input.with_file_name(format!(
        "{}_split.wasm",
        input.file_stem().and_then(|s| s.to_str()).unwrap_or("main")
    ));
    let main_module = format!("./{name}.js");
    let link_name = format!("./{}", loader_name(LOADER_PLACEHOLDER));
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&bytes);
        opts.output_dir = pkg;
        opts.main_out_path = &main_out;
        opts.main_module = &main_module;
        opts.link_name = &link_name;
        opts
    })
    .map_err(|e| anyhow::anyhow!("splitting {} failed: {e:#}", input.display()))?;
    said(&format!(
        "split into {} modules",
        split.split_modules.len() + 1
    ));

    // As `wasm-bindgen --target web --keep-lld-exports --no-demangle` (what cargo-leptos ran)
    // sets it up, externref included: the CLI passes its (off) flag to this deprecated setter.
    #[allow(deprecated)]
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&main_out)
        .out_name(name)
        .web(true)?
        .keep_lld_exports(true)
        .demangle(false)
        .typescript(false)
        .omit_default_module_path(false)
        .reference_types(false)
        .generate(pkg)
        .context("wasm-bindgen failed")?;
    let main = pkg.join(format!("{name}.wasm"));
    std::fs::rename(pkg.join(format!("{name}_bg.wasm")), &main)
        .context("wasm-bindgen wrote no WASM")?;

    minify(&pkg.join(format!("{name}.js")))?;
    said("bound to its JS glue");

    let mut all = vec![main];
    all.extend(split.split_modules.iter().cloned());
    optimize(wasm_opt, &all)?;
    said("optimized");
    Ok(Split {
        modules: split.split_modules,
        manifest: split.prefetch_map,
    })
}

/// The JS glue minified in place with esbuild (from npm), as an ES module, so its exports keep
/// their names (the split loader imports `initSync`). wasm-bindgen names one import module
/// once per import, so esbuild's warning about duplicate keys is expected and not shown.
fn minify(js: &Path) -> Result<()> {
    let mut cmd = Command::new("esbuild");
    cmd.arg(js)
        .args([
            "--minify",
            "--format=esm",
            "--allow-overwrite",
            "--log-level=error",
        ])
        .arg(format!("--outfile={}", js.display()));
    crate::tool::run(cmd, &format!("esbuild {}", js.display()))
}

/// `wasm-opt -Oz` (Binaryen) over `files`. A native `wasm-opt` (`--wasm-opt`) runs once per
/// module, one per core at a time. By default npm's Binaryen runs in `node` (optimize.mjs beside
/// this crate's manifest), one process per core with a share of the modules: npm's Binaryen is
/// itself WebAssembly, which every process compiles again, so a process per module spent most
/// of its time starting (344 modules: 231 s that way, 33 s this way, on 2 cores).
fn optimize(wasm_opt: Option<&Path>, files: &[PathBuf]) -> Result<()> {
    // Largest first, so the last module to finish is a small one.
    let mut files = files.to_vec();
    files.sort_by_key(|p| std::cmp::Reverse(p.metadata().map(|m| m.len()).unwrap_or(0)));
    let Some(wasm_opt) = wasm_opt else {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        return crate::pool::each(&shares(&files, workers), |share| optimize_in_node(share));
    };
    crate::pool::each(&files, |file| optimize_one(wasm_opt, file))
}

/// `files` (largest first) dealt into `n` shares of about the same bytes: each to the share
/// with the fewest so far.
fn shares(files: &[PathBuf], n: usize) -> Vec<Vec<PathBuf>> {
    let mut all: Vec<(u64, Vec<PathBuf>)> = vec![(0, Vec::new()); n.max(1)];
    for file in files {
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if let Some(least) = all.iter_mut().min_by_key(|(bytes, _)| *bytes) {
            least.0 += size;
            least.1.push(file.clone());
        }
    }
    all.into_iter()
        .map(|(_, share)| share)
        .filter(|share| !share.is_empty())
        .collect()
}

fn optimize_in_node(files: &[PathBuf]) -> Result<()> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("optimize.mjs");
    let mut cmd = Command::new("node");
    cmd.arg(&script).args(files);
    crate::tool::run(
        cmd,
        &format!("node {} ({} modules)", script.display(), files.len()),
    )
}

fn optimize_one(wasm_opt: &Path, file: &Path) -> Result<()> {
    let mut cmd = Command::new(wasm_opt);
    cmd.args([
        "-Oz",
        "--enable-bulk-memory",
        "--enable-nontrapping-float-to-int",
    ])
    .arg(file)
    .arg("-o")
    .arg(file);
    crate::tool::run(cmd, &format!("wasm-opt {}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_dealt_into_shares_of_about_the_same_bytes() {
        let dir = std::env::temp_dir().join(format!("strata-site-shares-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files: Vec<PathBuf> = [900, 500, 400, 300, 100, 50]
            .iter()
            .enumerate()
            .map(|(i, size)| {
                let f = dir.join(format!("m{i}.wasm"));
                std::fs::write(&f, vec![0u8; *size]).unwrap();
                f
            })
            .collect();
        let dealt = shares(&files, 2);
        let bytes = |share: &Vec<PathBuf>| -> u64 {
            share.iter().map(|f| f.metadata().unwrap().len()).sum()
        };
        assert_eq!(dealt.len(), 2);
        assert_eq!((bytes(&dealt[0]), bytes(&dealt[1])), (1200, 1050));
        let mut all: Vec<PathBuf> = dealt.concat();
        all.sort();
        assert_eq!(all, files);
        // More cores than modules: no empty share.
        assert_eq!(shares(&files[..1], 4).len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
