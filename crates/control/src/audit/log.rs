//! Reading the audit log: filtered, keyset-paged, exported. Platform admins see every row;
//! an organization's owners see that organization's rows; nobody else sees any. Decided by
//! the permission engine (`view_audit`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use model::audit::{AuditFilter, AuditPage, AuditRow};
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::access::model::{Kind, Permission, Resource};
use crate::auth::Caller;
use crate::entities::{audit, organization, user};
use crate::{internal, Control};

const DEFAULT_PAGE: u64 = 50;
const MAX_PAGE: u64 = 500;
/// Most rows one export returns.
pub const MAX_EXPORT: usize = 100_000;

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    JsonLines,
    Csv,
}

fn parse_time(
    value: &str,
    end_of_day: bool,
    name: &str,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let time = if end_of_day {
            NaiveTime::from_hms_milli_opt(23, 59, 59, 999)
        } else {
            NaiveTime::from_hms_opt(0, 0, 0)
        };
        if let Some(t) = time {
            return Ok(Some(d.and_time(t).and_utc()));
        }
    }
    Err(AppError::Invalid(format!(
        "`{name}` must be a date like 2026-11-22 or a time like 2026-11-22T10:00:00Z."
    )))
}

impl Control {
    /// The conditions every query gets: what the caller may see, and the filter.
    async fn audit_condition(
        &self,
        caller: &Caller,
        f: &AuditFilter,
    ) -> Result<Condition, AppError> {
        // Checked before anything reaches the database (PostgreSQL refuses a NUL in text).
        for (name, value) in [
            ("actor", &f.actor),
            ("organization", &f.organization),
            ("resource_type", &f.resource_type),
            ("resource_id", &f.resource_id),
            ("action", &f.action),
            ("outcome", &f.outcome),
            ("from", &f.from),
            ("to", &f.to),
        ] {
            if value.chars().any(|c| model::text::is_forbidden(c, false)) || value.len() > 200 {
                return Err(AppError::Invalid(format!(
                    "`{name}` must be at most 200 characters, without control characters."
                )));
            }
        }
        let mut cond = Condition::all();
        let all = self
            .can(Some(caller), Permission::ViewAudit, &Resource::platform())
            .await?;
        if !all {
            let orgs: Vec<Uuid> = self
                .visible(caller, Permission::ViewAudit, Kind::Organization)
                .await?
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect();
            if orgs.is_empty() {
                return Err(AppError::Forbidden(
                    "Only organization owners and platform administrators can see the audit log."
                        .into(),
                ));
            }
            cond = cond.add(audit::Column::OrganizationId.is_in(orgs));
        }
        let fail = |e| internal("audit filter", e);
        if !f.actor.trim().is_empty() {
            let id = user::Entity::find()
                .filter(user::Column::Username.eq(f.actor.trim()))
                .one(self.db())
                .await
                .map_err(fail)?
                .map(|u| u.id);
            cond = match id {
                Some(id) => cond.add(audit::Column::ActorId.eq(id)),
                None => cond.add(audit::Column::ActorName.eq(f.actor.trim())),
            };
        }
        if !f.organization.trim().is_empty() {
            let id = organization::Entity::find()
                .filter(organization::Column::Name.eq(f.organization.trim()))
                .one(self.db())
                .await
                .map_err(fail)?
                .map(|o| o.id)
                .unwrap_or_else(Uuid::nil);
            cond = cond.add(audit::Column::OrganizationId.eq(id));
        }
        for (value, column) in [
            (&f.resource_type, audit::Column::ResourceType),
            (&f.resource_id, audit::Column::ResourceId),
            (&f.action, audit::Column::Action),
        ] {
            if !value.trim().is_empty() {
                cond = cond.add(column.eq(value.trim()));
            }
        }
        match f.outcome.trim() {
            "" => {}
            o @ ("success" | "denied" | "failed") => cond = cond.add(audit::Column::Outcome.eq(o)),
            _ => {
                return Err(AppError::Invalid(
                    "`outcome` must be success, denied or failed.".into(),
                ))
            }
        }
        if let Some(t) = parse_time(&f.from, false, "from")? {
            cond = cond.add(audit::Column::At.gte(t));
        }
        if let Some(t) = parse_time(&f.to, true, "to")? {
            cond = cond.add(audit::Column::At.lte(t));
        }
        Ok(cond)
    }

    /// One page of rows, newest first.
    pub async fn audit_page(
        &self,
        caller: &Caller,
        f: &AuditFilter,
    ) -> Result<AuditPage, AppError> {
        let mut cond = self.audit_condition(caller, f).await?;
        if let Some(before) = f.before {
            cond = cond.add(audit::Column::Id.lt(before));
        }
        let limit = f.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let mut rows = audit::Entity::find()
            .filter(cond)
            .order_by_desc(audit::Column::Id)
            .limit(limit + 1)
            .all(self.db())
            .await
            .map_err(|e| internal("audit page", e))?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_before = if more {
            rows.last().map(|r| r.id)
        } else {
            None
        };
        Ok(AuditPage {
            rows: self.audit_rows(rows).await?,
            next_before,
        })
    }

    /// Every matching row (up to [`MAX_EXPORT`]), newest first, as JSON lines or CSV.
    pub async fn audit_export(
        &self,
        caller: &Caller,
        f: &AuditFilter,
        format: ExportFormat,
    ) -> Result<String, AppError> {
        let cond = self.audit_condition(caller, f).await?;
        let mut out = String::new();
        if format == ExportFormat::Csv {
            out.push_str("id,at,actor,client_ip,user_agent,organization,resource_type,resource_id,action,outcome,detail\n");
        }
        let mut before: Option<i64> = None;
        let mut written = 0usize;
        loop {
            let mut c = cond.clone();
            if let Some(b) = before {
                c = c.add(audit::Column::Id.lt(b));
            }
            let rows = audit::Entity::find()
                .filter(c)
                .order_by_desc(audit::Column::Id)
                .limit(1000)
                .all(self.db())
                .await
                .map_err(|e| internal("audit export", e))?;
            let Some(last) = rows.last().map(|r| r.id) else {
                break;
            };
            for r in self.audit_rows(rows).await? {
                match format {
                    ExportFormat::JsonLines => {
                        out.push_str(
                            &serde_json::to_string(&r).map_err(|e| internal("audit export", e))?,
                        );
                        out.push('\n');
                    }
                    ExportFormat::Csv => {
                        let fields = [
                            r.id.to_string(),
                            r.at,
                            r.actor,
                            r.client_ip,
                            r.user_agent,
                            r.organization.unwrap_or_default(),
                            r.resource_type,
                            r.resource_id,
                            r.action,
                            r.outcome,
                            r.detail,
                        ];
                        let line: Vec<String> = fields.iter().map(|v| csv_field(v)).collect();
                        out.push_str(&line.join(","));
                        out.push('\n');
                    }
                }
                written += 1;
                if written >= MAX_EXPORT {
                    return Ok(out);
                }
            }
            before = Some(last);
        }
        Ok(out)
    }

    async fn audit_rows(&self, rows: Vec<audit::Model>) -> Result<Vec<AuditRow>, AppError> {
        let org_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.organization_id).collect();
        let names: HashMap<Uuid, String> = if org_ids.is_empty() {
            HashMap::new()
        } else {
            organization::Entity::find()
                .filter(organization::Column::Id.is_in(org_ids))
                .all(self.db())
                .await
                .map_err(|e| internal("audit org names", e))?
                .into_iter()
                .map(|o| (o.id, o.name))
                .collect()
        };
        Ok(rows
            .into_iter()
            .map(|r| AuditRow {
                id: r.id,
                at: r.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                actor: r.actor_name,
                client_ip: r.client_ip,
                user_agent: r.user_agent,
                organization: r
                    .organization_id
                    .map(|id| names.get(&id).cloned().unwrap_or_else(|| id.to_string())),
                resource_type: r.resource_type,
                resource_id: r.resource_id,
                action: r.action,
                outcome: r.outcome,
                detail: r.detail,
            })
            .collect())
    }
}

/// Quotes a CSV field when needed, and defuses spreadsheet formulas.
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("\tcmd"), "'\tcmd");
    }

    #[test]
    fn times_accept_dates_and_rfc3339() {
        assert_eq!(
            parse_time("2026-11-22", true, "to")
                .unwrap()
                .unwrap()
                .to_rfc3339(),
            "2026-11-22T23:59:59.999+00:00"
        );
        assert!(parse_time("2026-11-22T10:00:00Z", false, "from")
            .unwrap()
            .is_some());
        assert!(parse_time("", false, "from").unwrap().is_none());
        assert!(matches!(
            parse_time("yesterday", false, "from"),
            Err(AppError::Invalid(_))
        ));
    }
}
