//! Read-only permission questions against an installation's database, for operators
//! debugging a real grant from the command line (`strata authz check|lookup-*|explain`).
//!
//! Opens the database without migrating or writing anything. Subjects and objects may be
//! named by id, or for users and organizations by name (`user:alice`, `organization:acme`).
//! An API token (`token:<id>`) may be the subject of `check` and `explain`: the answer is its
//! owner's, narrowed by the token's restriction, and `explain` says which of the two decided.

use authz::{Object, Subject, Trace};
use migrations::{Migrator, MigratorTrait};
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::store::DbStore;
use super::{Access, SCHEMA};
use crate::entities::{api_token, organization, service, user, vm};

/// What an operator's question ran into.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("could not open the database: {0}")]
    Connect(#[source] sea_orm::DbErr),
    #[error("the database has {0} pending migrations; run `strata migrate` first")]
    Pending(usize),
    #[error("{0}")]
    Schema(#[from] super::AccessError),
    #[error("{0}")]
    Input(String),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Eval(#[from] authz::EvalError),
}

/// A read-only view of one installation's grants.
pub struct Inspector {
    db: DatabaseConnection,
    access: std::sync::Arc<Access>,
}

impl Inspector {
    pub async fn open(url: &str) -> Result<Self, InspectError> {
        let db = crate::db::connect(url)
            .await
            .map_err(InspectError::Connect)?;
        let pending = Migrator::get_pending_migrations(&db).await?.len();
        if pending > 0 {
            return Err(InspectError::Pending(pending));
        }
        Ok(Self {
            db,
            access: std::sync::Arc::new(Access::new(SCHEMA)?),
        })
    }

    /// Answers a query as the lines `strata authz` prints.
    pub async fn answer(&self, q: &model::access::AuthzQuery) -> Result<Vec<String>, InspectError> {
        use model::access::AuthzQuery as Q;
        Ok(match q {
            Q::Check {
                subject,
                permission,
                entity,
            } => {
                let o = self.object(entity).await?;
                let (s, token) = match self.token(subject, permission, &o).await? {
                    Some((owner, _, admitted)) => (owner, Some(admitted)),
                    None => (self.subject(subject).await?, None),
                };
                let allowed = token != Some(false) && self.check(&s, permission, &o).await?;
                vec![if allowed { "allowed" } else { "denied" }.to_owned()]
            }
            Q::LookupResources {
                subject,
                permission,
                entity_type,
            } => {
                let s = self.subject(subject).await?;
                let mut lines = self.lookup_resources(&s, permission, entity_type).await?;
                lines.push(format!("({} found)", lines.len()));
                lines
            }
            Q::LookupSubjects {
                entity,
                permission,
                subject_type,
            } => {
                let o = self.object(entity).await?;
                let mut lines = self.lookup_subjects(&o, permission, subject_type).await?;
                lines.push(format!("({} found)", lines.len()));
                lines
            }
            Q::Explain {
                subject,
                permission,
                entity,
            } => {
                let o = self.object(entity).await?;
                let (s, mut lines, admitted) = match self.token(subject, permission, &o).await? {
                    Some((owner, line, admitted)) => (owner, vec![line], admitted),
                    None => (self.subject(subject).await?, Vec::new(), true),
                };
                let trace = self.explain(&s, permission, &o).await?;
                lines.extend(trace.to_string().lines().map(str::to_owned));
                let allowed = admitted && trace.granted;
                lines.push(if allowed { "allowed" } else { "denied" }.to_owned());
                lines
            }
        })
    }
}

impl Inspector {
    fn store(&self) -> DbStore<'_, DatabaseConnection> {
        DbStore::new(&self.db)
    }

    /// A token named as a subject (`token:<id>`): its owner as the subject to ask the engine
    /// about, a sentence on what the token's restriction (and its expiry or revocation) says
    /// about this question, and whether it admits it. None for any other subject.
    async fn token(
        &self,
        text: &str,
        permission: &str,
        o: &Object,
    ) -> Result<Option<(Subject, String, bool)>, InspectError> {
        use super::model::{Kind, Permission, Resource};
        use crate::clock::Clock;
        let Some(id) = text.strip_prefix("token:") else {
            return Ok(None);
        };
        let unknown = || InspectError::Input(format!("no token `{id}` (name a token by its id)"));
        let id: Uuid = id.parse().map_err(|_| unknown())?;
        let row = api_token::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(unknown)?;
        let owner = Subject::new("user", row.user_id.to_string());
        let who = self.label("user", &row.user_id.to_string()).await?;
        let restriction = crate::auth::api_tokens::restriction_of(&row);
        let now = crate::clock::SystemClock.now();
        let organization = match o.id.parse::<Uuid>() {
            Ok(uuid) => match o.kind.as_str() {
                "organization" => Some(uuid),
                "vm" => vm::Entity::find_by_id(uuid)
                    .one(&self.db)
                    .await?
                    .map(|v| v.organization_id),
                "service" => service::Entity::find_by_id(uuid)
                    .one(&self.db)
                    .await?
                    .map(|s| s.organization_id),
                _ => None,
            },
            Err(_) => None,
        };
        let refusal = if row.revoked_at.is_some() {
            Some(format!("token {} is revoked", row.name))
        } else if now >= row.expires_at {
            Some(format!("token {} has expired", row.name))
        } else {
            match (Permission::parse(permission), Kind::parse(&o.kind)) {
                (Some(p), Some(kind)) => {
                    let resource = Resource {
                        kind,
                        id: o.id.clone(),
                    };
                    restriction.refusal(p, &resource, organization)
                }
                // A schema permission the code never asks about: only an unrestricted
                // token passes it on.
                _ => (!restriction.is_unrestricted()).then(|| {
                    format!(
                        "token {} is restricted and {permission} is not among its actions",
                        row.name
                    )
                }),
            }
        };
        let admitted = refusal.is_none();
        let line = match refusal {
            None => format!(
                "token {} acts for {who}; its restriction admits {permission} here, so {who}'s grants decide:",
                row.name
            ),
            Some(why) => format!("{why}, whatever {who} may do ({who}'s grants follow):"),
        };
        Ok(Some((owner, line, admitted)))
    }

    /// `type:id` or `type:name` (users and organizations), `#relation` allowed.
    pub async fn subject(&self, text: &str) -> Result<Subject, InspectError> {
        let parsed: Subject = text
            .parse()
            .map_err(|e| InspectError::Input(format!("{e}")))?;
        let object = self
            .resolve(Object::new(parsed.kind.clone(), parsed.id.clone()))
            .await?;
        Ok(Subject {
            kind: object.kind,
            id: object.id,
            relation: parsed.relation,
        })
    }

    pub async fn object(&self, text: &str) -> Result<Object, InspectError> {
        let parsed: Object = text
            .parse()
            .map_err(|e| InspectError::Input(format!("{e}")))?;
        self.resolve(parsed).await
    }

    async fn resolve(&self, o: Object) -> Result<Object, InspectError> {
        if self.access.engine().schema().entity(&o.kind).is_none() {
            return Err(InspectError::Input(format!(
                "unknown entity type `{}`",
                o.kind
            )));
        }
        if o.id.parse::<Uuid>().is_ok() {
            return Ok(o);
        }
        let found = match o.kind.as_str() {
            "user" => user::Entity::find()
                .filter(user::Column::Username.eq(o.id.as_str()))
                .one(&self.db)
                .await?
                .map(|u| u.id),
            "organization" => organization::Entity::find()
                .filter(organization::Column::Name.eq(o.id.as_str()))
                .one(&self.db)
                .await?
                .map(|x| x.id),
            _ => return Ok(o),
        };
        match found {
            Some(id) => Ok(Object::new(o.kind, id.to_string())),
            None => Err(InspectError::Input(format!(
                "no {} called `{}`",
                o.kind, o.id
            ))),
        }
    }

    pub async fn check(
        &self,
        s: &Subject,
        permission: &str,
        o: &Object,
    ) -> Result<bool, InspectError> {
        Ok(self
            .access
            .engine()
            .check(&self.store(), s, permission, o)
            .await?)
    }

    pub async fn lookup_resources(
        &self,
        s: &Subject,
        permission: &str,
        kind: &str,
    ) -> Result<Vec<String>, InspectError> {
        let ids = self
            .access
            .engine()
            .lookup_resources(&self.store(), s, permission, kind)
            .await?;
        let mut out = Vec::new();
        for id in ids {
            out.push(self.label(kind, &id).await?);
        }
        Ok(out)
    }

    pub async fn lookup_subjects(
        &self,
        o: &Object,
        permission: &str,
        reference: &str,
    ) -> Result<Vec<String>, InspectError> {
        let (kind, relation) = match reference.split_once('#') {
            Some((k, r)) => (k, Some(r)),
            None => (reference, None),
        };
        let ids = self
            .access
            .engine()
            .lookup_subjects(&self.store(), o, permission, kind, relation)
            .await?;
        let mut out = Vec::new();
        for id in ids {
            out.push(self.label(kind, &id).await?);
        }
        Ok(out)
    }

    pub async fn explain(
        &self,
        s: &Subject,
        permission: &str,
        o: &Object,
    ) -> Result<Trace, InspectError> {
        Ok(self
            .access
            .engine()
            .explain(&self.store(), s, permission, o)
            .await?)
    }

    /// `kind:id (name)` where the object has a name.
    pub async fn label(&self, kind: &str, id: &str) -> Result<String, InspectError> {
        let Ok(uuid) = id.parse::<Uuid>() else {
            return Ok(format!("{kind}:{id}"));
        };
        let name = match kind {
            "user" => user::Entity::find_by_id(uuid)
                .one(&self.db)
                .await?
                .map(|u| u.username),
            "organization" => organization::Entity::find_by_id(uuid)
                .one(&self.db)
                .await?
                .map(|x| x.name),
            "vm" => vm::Entity::find_by_id(uuid)
                .one(&self.db)
                .await?
                .map(|x| x.name),
            "service" => service::Entity::find_by_id(uuid)
                .one(&self.db)
                .await?
                .map(|x| x.name),
            _ => None,
        };
        Ok(match name {
            Some(n) => format!("{kind}:{id} ({n})"),
            None => format!("{kind}:{id}"),
        })
    }
}

impl crate::Control {
    /// Answers an operator's question about anyone's grants; platform admins only.
    pub async fn inspect_access(
        &self,
        caller: &crate::auth::Caller,
        q: &model::access::AuthzQuery,
    ) -> Result<Vec<String>, ::model::AppError> {
        use super::model::{Permission, Resource};
        self.authorize(caller, Permission::InspectAccess, &Resource::platform())
            .await?;
        let inspector = Inspector {
            db: self.db().clone(),
            access: self.access_arc(),
        };
        inspector.answer(q).await.map_err(|e| match e {
            InspectError::Input(m) => ::model::AppError::Invalid(m),
            InspectError::Eval(
                authz::EvalError::UnknownEntity(_) | authz::EvalError::UnknownMember { .. },
            ) => ::model::AppError::Invalid(e.to_string()),
            other => crate::internal("inspect access", other),
        })
    }
}
