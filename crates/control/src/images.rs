//! The image catalog: what VMs boot from. Administrators register files already on the node;
//! on first run Strata registers the test guest (when it has been built) as a ready image.

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

fn validate(new: &NewImage) -> Result<Vec<PathBuf>, AppError> {
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
    if new.os.trim().is_empty() || new.os.len() > 64 {
        return Err(bad("OS: 1 to 64 characters, like `Debian 12`."));
    }
    let files: Vec<Option<&String>> = match new.format.as_str() {
        "kernel" => vec![new.kernel_path.as_ref(), new.initrd_path.as_ref()],
        "disk" => vec![new.disk_path.as_ref()],
        _ => return Err(bad("Format: `kernel` (kernel + initrd) or `disk`.")),
    };
    let mut out = Vec::new();
    for f in files {
        let f = f
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("Give the path of every file this format needs."))?;
        let p = PathBuf::from(f);
        if !p.is_absolute() {
            return Err(bad("File paths must be absolute paths on the node."));
        }
        if !p.is_file() {
            return Err(AppError::Invalid(format!(
                "There is no file at {f} on the node."
            )));
        }
        out.push(p);
    }
    Ok(out)
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
        Ok(image::Entity::find()
            .filter(image::Column::Id.is_in(ids))
            .order_by_asc(image::Column::Name)
            .all(self.db())
            .await
            .map_err(|e| internal("list images", e))?
            .into_iter()
            .map(summary)
            .collect())
    }

    /// Adds an image from files on the node (platform administrators).
    pub async fn register_image(
        &self,
        caller: &Caller,
        new: &NewImage,
        now: DateTime<Utc>,
    ) -> Result<ImageSummary, AppError> {
        self.authorize_action(
            caller,
            Permission::ManageImages,
            &Resource::platform(),
            "image.register",
        )
        .await?;
        let files = validate(new)?;
        let (size, sha) = blocking(move || {
            let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
            measure(&refs)
        })
        .await?
        .map_err(AppError::Invalid)?;
        self.insert_image(&Actor::caller(caller), new, size, sha, now)
            .await
    }

    async fn insert_image(
        &self,
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
            crate::auth::signup::unique_or(
                e,
                AppError::Conflict(format!("There is already an image called {name}.")),
                "register image",
            )
        })?;
        let res = Resource::new(Kind::Image, id);
        tuples::write(
            &txn,
            &[
                tuples::points_to(&res, Rel::Platform, Kind::Platform, PLATFORM_ID),
                tuples::points_to(&res, Rel::Public, Kind::Platform, PLATFORM_ID),
            ],
            now,
        )
        .await?;
        let entry = Entry::new("image.register", &res)
            .detail(serde_json::json!({ "name": name, "format": new.format }));
        audit::record(&txn, actor, entry, Outcome::Success, now).await?;
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
            .insert_image(&Actor::system(), &new, size, sha, now)
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
    fn registration_refuses_relative_and_missing_files() {
        let mut new = NewImage {
            name: "debian".into(),
            os: "Debian 12".into(),
            format: "disk".into(),
            kernel_path: None,
            initrd_path: None,
            disk_path: Some("relative.qcow2".into()),
            cmdline: String::new(),
            boot_marker: None,
        };
        assert!(matches!(validate(&new), Err(AppError::Invalid(m)) if m.contains("absolute")));
        new.disk_path = Some("/nonexistent/disk.qcow2".into());
        assert!(matches!(validate(&new), Err(AppError::Invalid(m)) if m.contains("no file")));
        new.format = "iso".into();
        assert!(matches!(validate(&new), Err(AppError::Invalid(m)) if m.contains("Format")));
    }
}
