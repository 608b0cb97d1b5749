//! Content hashes in file names, so browsers may cache every file under `pkg/` forever.
//!
//! The hash is MD5, base64url without padding (22 characters), as cargo-leptos wrote it and
//! Leptos expects in `hash.txt`. The main JS and the split loader name each other (the JS
//! imports the loader, the loader calls the JS's `initSync`), so the JS and the split modules
//! are named by their content before the loader's name is written into them; every other name
//! is the hash of the final content.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use base64::Engine as _;
use md5::{Digest as _, Md5};

use crate::wasm::{loader_name, Split, LOADER_PLACEHOLDER};

/// The hashes Leptos reads from `hash.txt`.
#[derive(Debug)]
pub struct Hashes {
    js: String,
    wasm: String,
    css: String,
    manifest: String,
    split: String,
}

impl Hashes {
    /// `hash.txt` as `leptos::hydration` reads it.
    pub fn file_text(&self) -> String {
        format!(
            "js: {}\nwasm: {}\ncss: {}\nmanifest: {}\nsplit: {}\n",
            self.js, self.wasm, self.css, self.manifest, self.split
        )
    }
}

/// MD5, base64url without padding.
pub fn of(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Md5::digest(bytes))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Replaces every `from` in `bytes` with `to` (the same length, so a WASM stays valid).
fn replace_bytes(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    debug_assert_eq!(from.len(), to.len());
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}

/// Gives every file of the build in `pkg` its hashed name and rewrites the names inside them.
pub fn rename_all(pkg: &Path, name: &str, split: &Split) -> Result<Hashes> {
    // The split modules, by the content they have now.
    let mut stems = HashMap::new();
    let mut loader = String::from_utf8(read(&pkg.join(loader_name(LOADER_PLACEHOLDER)))?)
        .context("the split loader is not UTF-8")?;
    let placeholder = loader_name(LOADER_PLACEHOLDER);
    let mut modules = Vec::new();
    for path in &split.modules {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("odd module name {}", path.display()))?
            .to_owned();
        let bytes = read(path)?;
        let hashed = format!("{stem}.{}", of(&bytes));
        loader = loader.replace(&format!("./{stem}.wasm"), &format!("./{hashed}.wasm"));
        std::fs::remove_file(path)?;
        modules.push((pkg.join(format!("{hashed}.wasm")), bytes));
        stems.insert(stem, hashed);
    }
    // The JS glue, by its content before the loader's name is in it.
    let js_path = pkg.join(format!("{name}.js"));
    let mut js = String::from_utf8(read(&js_path)?).context("the JS glue is not UTF-8")?;
    let js_hash = of(js.as_bytes());
    loader = loader.replace(&format!("./{name}.js"), &format!("./{name}.{js_hash}.js"));
    // The loader, by its final content; then its name goes into everything that imports it.
    let split_hash = of(loader.as_bytes());
    let loader_file = loader_name(&split_hash);
    write(&pkg.join(&loader_file), loader.as_bytes())?;
    std::fs::remove_file(pkg.join(&placeholder))?;
    js = js.replace(&placeholder, &loader_file);
    write(&pkg.join(format!("{name}.{js_hash}.js")), js.as_bytes())?;
    std::fs::remove_file(&js_path)?;
    for (path, mut bytes) in modules {
        replace_bytes(&mut bytes, placeholder.as_bytes(), loader_file.as_bytes());
        write(&path, &bytes)?;
    }
    let wasm_path = pkg.join(format!("{name}.wasm"));
    let mut wasm = read(&wasm_path)?;
    replace_bytes(&mut wasm, placeholder.as_bytes(), loader_file.as_bytes());
    let wasm_hash = of(&wasm);
    write(&pkg.join(format!("{name}.{wasm_hash}.wasm")), &wasm)?;
    std::fs::remove_file(&wasm_path)?;
    // The stylesheet.
    let css_path = pkg.join(format!("{name}.css"));
    let css = read(&css_path)?;
    let css_hash = of(&css);
    std::fs::rename(&css_path, pkg.join(format!("{name}.{css_hash}.css")))?;
    // Which modules each route loads, by their new names.
    let manifest: HashMap<&String, Vec<&String>> = split
        .manifest
        .iter()
        .map(|(route, deps)| {
            let deps = deps.iter().map(|d| stems.get(d).unwrap_or(d)).collect();
            (route, deps)
        })
        .collect();
    let manifest = serde_json::to_vec(&manifest)?;
    let manifest_hash = of(&manifest);
    write(
        &pkg.join(format!("__wasm_split_manifest.{manifest_hash}.json")),
        &manifest,
    )?;
    Ok(Hashes {
        js: js_hash,
        wasm: wasm_hash,
        css: css_hash,
        manifest: manifest_hash,
        split: split_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_md5_in_base64url_without_padding() {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(of(b""), "1B2M2Y8AsgTpgAmY7PhCfg");
        assert_eq!(of(b"strata").len(), 22);
        assert_eq!(LOADER_PLACEHOLDER.len(), 22);
    }

    #[test]
    fn names_are_replaced_in_place() {
        let mut bytes = b"\x05a.__.jsxx a.__.js".to_vec();
        replace_bytes(&mut bytes, b"a.__.js", b"a.XY.js");
        assert_eq!(bytes, b"\x05a.XY.jsxx a.XY.js");
    }
}
