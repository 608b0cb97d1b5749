//! The image catalog: what VMs boot from. Administrators register files already in the node's
//! image directory (nothing elsewhere on the host); on first run Strata registers the test
//! guest (when it has been built) as a ready image. Sizes and checksums are shown to those
//! who manage images only.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use model::vms::ImageSummary;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::access::model::{Kind, Permission, Rel, Resource, PLATFORM_ID};
use crate::access::tuples;
use crate::access::Authorized;
use crate::audit::Action;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::Caller;
use crate::entities::image;
use crate::{internal, Control};

/// The name of the image Strata offers on a new installation.
pub const READY_IMAGE: &str = "strata-test-guest";
/// What the ready image prints once booted.
pub const READY_MARKER: &str = "STRATA-GUEST-READY";

pub use model::vms::NewImage;

fn summary(i: image::Model) -> ImageSummary {
    ImageSummary {
        id: i.id.to_string(),
        name: i.name,
        os: i.os,
        format: i.format,
        size_bytes: i.size_bytes,
        sha256: i.sha256,
    }
}

/// Size and SHA-256 of files, together.
fn measure(paths: &[&Path]) -> Result<(i64, String), String> {
    let mut hasher = Sha256::new();
    let mut size: i64 = 0;
    let mut buf = vec![0u8; 1 << 16];
    for path in paths {
        let mut file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += i64::try_from(n).unwrap_or(0);
        }
    }
    let digest = hasher.finalize();
    Ok((
        size,
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    ))
}

/// Most characters of a kernel command line.
pub const MAX_CMDLINE: usize = 512;
/// Most characters of a boot marker.
pub const MAX_MARKER: usize = 64;

/// Checks an image request's fields; the files must lie inside `image_dir`. Returns them,
/// canonical.
///
/// A path is read relative to the image directory (an absolute one must point inside it),
/// may not hold `..`, and must resolve, symlinks followed, to a regular file inside the
/// directory. Every way of failing that gives the same message, so the check tells nothing
/// about files elsewhere on the host.
fn validate(new: &NewImage, image_dir: &Path) -> Result<Vec<PathBuf>, AppError> {
    let bad = |m: &str| AppError::Invalid(m.to_owned());
    let name = new.name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(bad(
            "Name: 1 to 64 letters, digits, dots, hyphens or underscores.",
        ));
    }
    let os = new.os.trim();
    if os.is_empty() {
        return Err(bad("OS: 1 to 64 characters, like `Debian 12`."));
    }
    model::text::check_text("OS", os, 64, false).map_err(AppError::Invalid)?;
    model::text::check_text(
        "Kernel command line",
        new.cmdline.trim(),
        MAX_CMDLINE,
        false,
    )
    .map_err(AppError::Invalid)?;
    if let Some(marker) = &new.boot_marker {
        model::text::check_text("Boot marker", marker.trim(), MAX_MARKER, false)
            .map_err(AppError::Invalid)?;
    }
    let files: Vec<(&str, Option<&String>)> = match new.format.as_str() {
        "kernel" => vec![
            ("Kernel", new.kernel_path.as_ref()),
            ("Initrd", new.initrd_path.as_ref()),
        ],
        "disk" => vec![("Disk image", new.disk_path.as_ref())],
        _ => return Err(bad("Format: `kernel` (kernel + initrd) or `disk`.")),
    };
    let root = image_dir
        .canonicalize()
        .map_err(|e| internal("image directory", format!("{}: {e}", image_dir.display())))?;
    let mut out = Vec::new();
    for (what, f) in files {
        let f = f
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("Give the path of every file this format needs."))?;
        out.push(inside(&root, f).ok_or_else(|| {
            AppError::Invalid(format!(
                "{what}: no such image file. Put the file in the node's image directory \
                 (`images` in the data directory) and give its path there, like \
                 `debian/vmlinuz`."
            ))
        })?);
    }
    Ok(out)
}

/// `path` resolved inside `root` (canonical), if it names a regular file there.
fn inside(root: &Path, path: &str) -> Option<PathBuf> {
    if path.chars().any(|c| model::text::is_forbidden(c, false)) {
        return None;
    }
    let given = Path::new(path);
    if given
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return None;
    }
    let joined = if given.is_absolute() {
        given.to_path_buf()
    } else {
        root.join(given)
    };
    let real = joined.canonicalize().ok()?;
    (real.starts_with(root) && real.is_file()).then_some(real)
}

impl Control {
    /// Images the caller may boot from, by name.
    pub async fn list_images(&self, caller: &Caller) -> Result<Vec<ImageSummary>, AppError> {
        let ids: Vec<Uuid> = self
            .visible(caller, Permission::Read, Kind::Image)
            .await?
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        // Checksums describe files on the node: for those who manage them.
        let manager = self
            .can(
                Some(caller),
                Permission::ManageImages,
                &Resource::platform(),
            )
            .await?;
        Ok(image::Entity::find()
            .filter(image::Column::Id.is_in(ids))
            .order_by_asc(image::Column::Name)
            .all(self.db())
            .await
            .map_err(|e| internal("list images", e))?
            .into_iter()
            .map(summary)
            .map(|mut s| {
                if !manager {
                    s.sha256.clear();
                }
                s
            })
            .collect())
    }

    /// Adds an image from files on the node (platform administrators).
    pub async fn register_image(
        &self,
        caller: &Caller,
        new: &NewImage,
        now: DateTime<Utc>,
    ) -> Result<ImageSummary, AppError> {
        let allowed = self
            .authorize_action(
                caller,
                Permission::ManageImages,
                &Resource::platform(),
                Action::ImageRegister,
            )
            .await?;
        let files = validate(new, &self.image_dir)?;
        let (size, sha) = blocking(move || {
            let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
            measure(&refs)
        })
        .await?
        .map_err(AppError::Invalid)?;
        self.insert_image(&allowed, &Actor::caller(caller), new, size, sha, now)
            .await
    }

    async fn insert_image(
        &self,
        allowed: &Authorized,
        actor: &Actor,
        new: &NewImage,
        size: i64,
        sha: String,
        now: DateTime<Utc>,
    ) -> Result<ImageSummary, AppError> {
        let fail = |e| internal("register image", e);
        let id = Uuid::new_v4();
        let name = new.name.trim().to_owned();
        let txn = self.db().begin().await.map_err(fail)?;
        let row = image::ActiveModel {
            id: Set(id),
            name: Set(name.clone()),
            os: Set(new.os.trim().to_owned()),
            format: Set(new.format.clone()),
            kernel_path: Set(new.kernel_path.clone()),
            initrd_path: Set(new.initrd_path.clone()),
            disk_path: Set(new.disk_path.clone()),
            cmdline: Set(new.cmdline.trim().to_owned()),
            boot_marker: Set(new.boot_marker.clone().filter(|m| !m.trim().is_empty())),
            size_bytes: Set(size),
            sha256: Set(sha),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            crate::error::unique_or(
                e,
                AppError::Conflict(format!("There is already an image called {name}.")),
                "register image",
            )
        })?;
        let res = Resource::new(Kind::Image, id);
        tuples::write(
            &txn,
            allowed,
            &[
                tuples::points_to(&res, Rel::Platform, Kind::Platform, PLATFORM_ID),
                tuples::points_to(&res, Rel::Public, Kind::Platform, PLATFORM_ID),
            ],
            now,
        )
        .await?;
        let entry = Entry::new(Action::ImageRegister, &res)
            .detail(serde_json::json!({ "name": name, "format": new.format }));
        audit::record(&txn, allowed, actor, entry, Outcome::Success, now).await?;
        txn.commit().await.map_err(fail)?;
        tracing::info!(image = %name, "image registered");
        Ok(summary(row))
    }

    /// Registers the test guest built in `source` (vmlinuz + initrd.img) as the ready image,
    /// copied into `store`, unless an image of that name exists. Returns whether it did; a
    /// missing build is no error (the catalog simply starts empty).
    pub async fn ensure_ready_image(
        &self,
        source: &Path,
        store: &Path,
        now: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        let exists = image::Entity::find()
            .filter(image::Column::Name.eq(READY_IMAGE))
            .one(self.db())
            .await
            .map_err(|e| internal("look up ready image", e))?
            .is_some();
        let (kernel, initrd) = (source.join("vmlinuz"), source.join("initrd.img"));
        if exists || !kernel.is_file() || !initrd.is_file() {
            return Ok(false);
        }
        let store = store.to_owned();
        let (kernel, initrd, size, sha) = blocking(move || {
            let (kernel, initrd) =
                copy_into(&store, &kernel, &initrd).map_err(|e| e.to_string())?;
            let (size, sha) = measure(&[kernel.as_path(), initrd.as_path()])?;
            Ok::<_, String>((kernel, initrd, size, sha))
        })
        .await?
        .map_err(|e| internal("prepare ready image", e))?;
        let new = NewImage {
            name: READY_IMAGE.into(),
            os: "Debian 12 cloud kernel + busybox".into(),
            format: "kernel".into(),
            kernel_path: Some(kernel.display().to_string()),
            initrd_path: Some(initrd.display().to_string()),
            disk_path: None,
            cmdline: String::new(),
            boot_marker: Some(READY_MARKER.into()),
        };
        match self
            .insert_image(
                &Authorized::system("start-up: the ready image"),
                &Actor::system(),
                &new,
                size,
                sha,
                now,
            )
            .await
        {
            Ok(_) => Ok(true),
            // Another instance registered it first.
            Err(AppError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Runs file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| internal("file work", e))
}

/// Copies the guest's two files into `store/READY_IMAGE/` (kept when already the same size).
fn copy_into(store: &Path, kernel: &Path, initrd: &Path) -> std::io::Result<(PathBuf, PathBuf)> {
    let dir = std::path::absolute(store.join(READY_IMAGE))?;
    std::fs::create_dir_all(&dir)?;
    let mut out = Vec::new();
    for (src, name) in [(kernel, "vmlinuz"), (initrd, "initrd.img")] {
        let dest = dir.join(name);
        let same = std::fs::metadata(&dest).ok().map(|m| m.len())
            == std::fs::metadata(src).ok().map(|m| m.len());
        if !same {
            let tmp = dir.join(format!(".{name}.{}.tmp", Uuid::new_v4().simple()));
            std::fs::copy(src, &tmp)?;
            std::fs::rename(&tmp, &dest)?;
        }
        out.push(dest);
    }
    Ok((out[0].clone(), out[1].clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measure_hashes_files_together() {
        let dir = std::env::temp_dir().join(format!("strata-img-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a");
        std::fs::write(&a, b"abc").unwrap();
        let (size, sha) = measure(&[a.as_path()]).unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(measure(&[dir.join("missing").as_path()]).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn registration_takes_only_files_inside_the_image_directory() {
        let base = std::env::temp_dir().join(format!("strata-imgdir-{}", Uuid::new_v4()));
        let dir = base.join("images");
        std::fs::create_dir_all(dir.join("debian")).unwrap();
        std::fs::write(dir.join("debian/disk.raw"), b"disk").unwrap();
        std::fs::write(base.join("secret"), b"outside").unwrap();
        std::os::unix::fs::symlink(base.join("secret"), dir.join("link")).unwrap();
        let mut new = NewImage {
            name: "debian".into(),
            os: "Debian 12".into(),
            format: "disk".into(),
            kernel_path: None,
            initrd_path: None,
            disk_path: Some("debian/disk.raw".into()),
            cmdline: String::new(),
            boot_marker: None,
        };
        let ok = validate(&new, &dir).unwrap();
        assert_eq!(
            ok,
            vec![dir.canonicalize().unwrap().join("debian/disk.raw")]
        );
        new.disk_path = Some(dir.join("debian/disk.raw").display().to_string());
        assert!(validate(&new, &dir).is_ok(), "an absolute path inside");
        // Outside, missing, through `..`, through a symlink, a directory, /etc/shadow: one
        // message for all, so nothing is learned about the host.
        let refused = |p: String| {
            let mut n = new.clone();
            n.disk_path = Some(p);
            match validate(&n, &dir) {
                Err(AppError::Invalid(m)) => m,
                other => panic!("expected a refusal, got {other:?}"),
            }
        };
        let first = refused("/etc/shadow".into());
        assert!(first.contains("no such image file"), "{first}");
        for p in [
            "/proc/self/environ".to_owned(),
            "/nonexistent/disk.qcow2".to_owned(),
            "../secret".to_owned(),
            "debian/../../secret".to_owned(),
            base.join("secret").display().to_string(),
            "link".to_owned(),
            "debian".to_owned(),
            "missing.raw".to_owned(),
            "debian/disk.raw\u{202E}".to_owned(),
        ] {
            assert_eq!(refused(p.clone()), first, "{p}");
        }
        new.format = "iso".into();
        assert!(matches!(validate(&new, &dir), Err(AppError::Invalid(m)) if m.contains("Format")));
        new.format = "disk".into();
        new.cmdline = "console=ttyS0 \u{202E}".into();
        assert!(
            matches!(validate(&new, &dir), Err(AppError::Invalid(m)) if m.contains("command line"))
        );
        new.cmdline = "x".repeat(MAX_CMDLINE + 1);
        assert!(validate(&new, &dir).is_err());
        new.cmdline = String::new();
        new.boot_marker = Some("M".repeat(MAX_MARKER + 1));
        assert!(validate(&new, &dir).is_err());
        new.boot_marker = None;
        new.os = "Debian\u{1b}[31m".into();
        assert!(validate(&new, &dir).is_err());
        std::fs::remove_dir_all(base).unwrap();
    }
}
