//! A VM's disk: a qcow2 file made with `qemu-img`, either blank (for a VM booting a kernel)
//! or an overlay on a base image (for a VM booting from its disk), so the base is shared
//! and never written.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::driver::DriverError;

pub const GIB: u64 = 1 << 30;

/// What the disk starts from.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    Blank,
    /// A qcow2 or raw image, read-only below the overlay.
    Base(&'a Path),
}

/// What `qemu-img info` says about an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: String,
    pub virtual_size: u64,
    pub backing_file: Option<String>,
    pub backing_format: Option<String>,
}

async fn qemu_img(args: &[&str], path: &Path) -> Result<Vec<u8>, DriverError> {
    let out = tokio::process::Command::new("qemu-img")
        .args(args)
        .output()
        .await
        .map_err(|source| DriverError::Tool {
            program: "qemu-img",
            source,
        })?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(DriverError::Disk {
            path: path.to_owned(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// Reads an image's format and sizes. `-U` lets it read an image a running QEMU holds.
/// The format of a raw file is probed, which is safe only for images the operator provides.
pub async fn info(path: &Path) -> Result<ImageInfo, DriverError> {
    let arg = path.display().to_string();
    let out = qemu_img(&["info", "-U", "--output=json", &arg], path).await?;
    let bad = |what: &str| DriverError::Disk {
        path: path.to_owned(),
        message: format!("qemu-img info gave no {what}"),
    };
    let v: Value = serde_json::from_slice(&out).map_err(|_| bad("JSON"))?;
    let text = |k: &str| v[k].as_str().map(str::to_owned);
    Ok(ImageInfo {
        format: text("format").ok_or_else(|| bad("format"))?,
        virtual_size: v["virtual-size"]
            .as_u64()
            .ok_or_else(|| bad("virtual size"))?,
        backing_file: text("backing-filename"),
        backing_format: text("backing-filename-format"),
    })
}

/// Makes the disk at `path` unless it exists (an existing disk is kept as it is, whatever
/// its size). Its virtual size is `gib` GiB, or the base's size when that is larger. Written
/// under a temporary name first, so a crash never leaves a half-made disk behind that would
/// then be kept.
pub async fn ensure(path: &Path, source: Source<'_>, gib: u32) -> Result<(), DriverError> {
    if path.exists() {
        return Ok(());
    }
    let mut size = u64::from(gib) * GIB;
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    let tmp_arg = tmp.display().to_string();
    let _ = std::fs::remove_file(&tmp);
    match source {
        Source::Blank => {
            let size = size.to_string();
            qemu_img(&["create", "-q", "-f", "qcow2", &tmp_arg, &size], path).await?;
        }
        Source::Base(base) => {
            // qemu-img resolves a relative backing path against the overlay's directory.
            let base = std::fs::canonicalize(base).map_err(|source| DriverError::Io {
                path: base.to_owned(),
                source,
            })?;
            let base_info = info(&base).await?;
            if base_info.format != "qcow2" && base_info.format != "raw" {
                return Err(DriverError::Disk {
                    path: base,
                    message: format!(
                        "the image is {}, only qcow2 and raw images are supported",
                        base_info.format
                    ),
                });
            }
            size = size.max(base_info.virtual_size);
            let (base_arg, size) = (base.display().to_string(), size.to_string());
            qemu_img(
                &[
                    "create",
                    "-q",
                    "-f",
                    "qcow2",
                    "-F",
                    &base_info.format,
                    "-b",
                    &base_arg,
                    &tmp_arg,
                    &size,
                ],
                path,
            )
            .await?;
        }
    }
    std::fs::rename(&tmp, path).map_err(|source| DriverError::Io {
        path: path.to_owned(),
        source,
    })
}
