//! A gzip and a brotli copy beside every file of the site (`x.wasm.gz`, `x.wasm.br`), made once
//! at build time at the highest settings; the server sends them to browsers that accept them.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// Every file under `dir`, recursively.
fn files(dir: &Path, into: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            files(&entry.path(), into)?;
        } else {
            into.push(entry.path());
        }
    }
    Ok(())
}

/// Compresses every file under `site` that is not a compressed copy already.
pub fn all(site: &Path) -> Result<()> {
    let mut list = Vec::new();
    files(site, &mut list)?;
    list.retain(|p| !matches!(p.extension().and_then(|e| e.to_str()), Some("gz" | "br")));
    // Largest first, so the two cores finish together.
    list.sort_by_key(|p| std::cmp::Reverse(p.metadata().map(|m| m.len()).unwrap_or(0)));
    crate::pool::each(&list, |file| {
        one(file).with_context(|| format!("compressing {} failed", file.display()))
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn one(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes)?;
    std::fs::write(with_suffix(path, ".gz"), gz.finish()?)?;
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut bytes.as_slice(), &mut br, &params)?;
    std::fs::write(with_suffix(path, ".br"), br)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn both_copies_decompress_to_the_original() {
        let dir = std::env::temp_dir().join(format!("strata-site-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        let text = "hello hello hello strata ".repeat(100);
        std::fs::write(dir.join("pkg/a.js"), &text).unwrap();
        all(&dir).unwrap();
        let mut gz = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(dir.join("pkg/a.js.gz")).unwrap())
            .read_to_string(&mut gz)
            .unwrap();
        let mut br = Vec::new();
        brotli::BrotliDecompress(
            &mut std::fs::File::open(dir.join("pkg/a.js.br")).unwrap(),
            &mut br,
        )
        .unwrap();
        assert_eq!(gz, text);
        assert_eq!(String::from_utf8(br).unwrap(), text);
        // A second run makes no copies of the copies.
        all(&dir).unwrap();
        assert!(!dir.join("pkg/a.js.gz.gz").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
