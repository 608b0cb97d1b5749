//! Read-only permission questions against an installation's database, for operators
//! debugging a real grant from the command line (`strata authz check|lookup-*|explain`).
//!
//! Opens the database without migrating or writing anything. Subjects and objects may be
//! named by id, or for users and organizations by name (`user:alice`, `organization:acme`).

use authz::{Object, Subject, Trace};
use migrations::{Migrator, MigratorTrait};
use sea_orm::prelude::Uuid;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::store::DbStore;
use super::{Access, SCHEMA};
use crate::entities::{organization, service, user, vm};

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
                let s = self.subject(subject).await?;
                let o = self.object(entity).await?;
                let allowed = self.check(&s, permission, &o).await?;
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
                let s = self.subject(subject).await?;
                let o = self.object(entity).await?;
                let trace = self.explain(&s, permission, &o).await?;
                let mut lines: Vec<String> = trace.to_string().lines().map(str::to_owned).collect();
                lines.push(if trace.granted { "allowed" } else { "denied" }.to_owned());
                lines
            }
        })
    }
}

impl Inspector {
    fn store(&self) -> DbStore<'_, DatabaseConnection> {
        DbStore::new(&self.db)
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
