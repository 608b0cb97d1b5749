//! An organization's quotas and what it uses of them.

use serde::{Deserialize, Serialize};

/// The largest limit one can set on any quota.
pub const MAX_LIMIT: u64 = 1_000_000_000;

/// Limits on what an organization may hold; `None` is no limit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quota {
    /// vCPUs of its VMs that should be running.
    pub vcpus: Option<u64>,
    /// Memory (MiB) of its VMs that should be running.
    pub memory_mb: Option<u64>,
    /// Disk (GiB) of all its VMs.
    pub disk_gb: Option<u64>,
    /// VMs, service replicas included, running or not.
    pub vms: Option<u64>,
    pub services: Option<u64>,
}

/// What an organization holds, counted as its quotas count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaUsage {
    pub vcpus: u64,
    pub memory_mb: u64,
    pub disk_gb: u64,
    pub vms: u64,
    pub services: u64,
}

/// The organization page's quota panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgQuota {
    pub quota: Quota,
    pub usage: QuotaUsage,
    /// The caller may change the limits (a platform administrator).
    pub can_edit: bool,
}

/// One quota for display and for messages: its name, unit, limit and use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaLine {
    pub label: &'static str,
    pub unit: &'static str,
    pub limit: Option<u64>,
    pub used: u64,
}

impl OrgQuota {
    /// The five quotas in the order the page shows them.
    pub fn lines(&self) -> [QuotaLine; 5] {
        let (q, u) = (&self.quota, &self.usage);
        let line = |label, unit, limit, used| QuotaLine {
            label,
            unit,
            limit,
            used,
        };
        [
            line("vCPUs", "", q.vcpus, u.vcpus),
            line("Memory", "MiB", q.memory_mb, u.memory_mb),
            line("Disk", "GiB", q.disk_gb, u.disk_gb),
            line("VMs", "", q.vms, u.vms),
            line("Services", "", q.services, u.services),
        ]
    }
}

/// Checks every limit is within range.
pub fn validate_quota(q: &Quota) -> Result<(), String> {
    let all = [q.vcpus, q.memory_mb, q.disk_gb, q.vms, q.services];
    if all.iter().flatten().any(|&v| v > MAX_LIMIT) {
        return Err(format!(
            "A quota can be at most {MAX_LIMIT}; leave it empty for no limit."
        ));
    }
    Ok(())
}

/// Reads a limit typed in a form: empty is no limit.
pub fn parse_limit(label: &str, text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u64>()
        .map(Some)
        .map_err(|_| format!("{label}: a whole number, or empty for no limit."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_from_forms_and_stay_in_range() {
        assert_eq!(parse_limit("VMs", " "), Ok(None));
        assert_eq!(parse_limit("VMs", "12"), Ok(Some(12)));
        assert!(parse_limit("VMs", "-1").is_err());
        assert!(validate_quota(&Quota {
            vms: Some(MAX_LIMIT + 1),
            ..Quota::default()
        })
        .is_err());
        assert!(validate_quota(&Quota {
            vms: Some(3),
            ..Quota::default()
        })
        .is_ok());
    }
}
