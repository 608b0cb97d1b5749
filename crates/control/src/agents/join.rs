//! Adding a node: a platform administrator names it and gets a single-use token that expires
//! after [`JOIN_TOKEN_TTL`], with the command to paste on the host. The host's agent redeems the
//! token with a certificate request; the first redemption claims the token in one write (so
//! two agents racing with one token cannot both join) and the node's certificate is signed.
//! A used, expired or unknown token is refused, and the refusal is audited.

use chrono::{DateTime, Duration, Utc};
use model::nodes::JoinTicket;
use model::AppError;
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait,
};

use crate::access::model::{Kind, Permission, Resource};
use crate::audit::{self, Action, Actor, Entry, Outcome};
use crate::auth::tokens::{hash_token, new_token};
use crate::auth::{show_time, Caller, ClientInfo};
use crate::compute::nodes::{DEFAULT_CPU_OVERCOMMIT_PCT, DEFAULT_MEMORY_OVERCOMMIT_PCT};
use crate::entities::{join_token, node};
use crate::error::unique_or;
use crate::{internal, Control};

/// How long a join token can be redeemed (Incus: 3 hours; an administrator pastes it at once).
pub const JOIN_TOKEN_TTL: Duration = Duration::hours(1);

/// What a redeemed token gives the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined {
    pub node_id: Uuid,
    pub name: String,
    pub certificate_pem: String,
    pub ca_pem: String,
}

impl Control {
    /// Adds a node that has not joined yet and returns its single-use join token.
    pub async fn add_node(
        &self,
        caller: &Caller,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<JoinTicket, AppError> {
        let name = name.trim().to_owned();
        model::nodes::validate_node_name(&name).map_err(AppError::Invalid)?;
        let allowed = self
            .authorize_action(
                caller,
                Permission::ManageNodes,
                &Resource::platform(),
                Action::NodeAdd,
            )
            .await?;
        let url = self.agent_url().ok_or_else(|| {
            AppError::Conflict(
                "this control plane does not listen for agents: start it with --agent-listen"
                    .into(),
            )
        })?;
        let authority = self.node_authority(now).await?;
        let (secret, secret_sha256) = new_token();
        let expires_at = now + JOIN_TOKEN_TTL;
        let id = Uuid::new_v4();
        let fail = |e| internal("add node", e);
        let txn = self.db().begin().await.map_err(fail)?;
        node::ActiveModel {
            id: Set(id),
            name: Set(name.clone()),
            address: Set(String::new()),
            is_local: Set(false),
            cpu_count: Set(0),
            memory_mb: Set(0),
            created_at: Set(now),
            region: Set(String::new()),
            cordoned: Set(false),
            draining: Set(false),
            cpu_overcommit_pct: Set(DEFAULT_CPU_OVERCOMMIT_PCT),
            memory_overcommit_pct: Set(DEFAULT_MEMORY_OVERCOMMIT_PCT),
            last_seen_at: Set(None),
            cert_sha256: Set(None),
            joined_at: Set(None),
            accel: Set(String::new()),
            qemu_version: Set(None),
            disk_free_gb: Set(0),
            labels: Set("{}".into()),
            agent_version: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            unique_or(
                e,
                AppError::Conflict(format!("a node named {name} already exists")),
                "add node",
            )
        })?;
        join_token::ActiveModel {
            id: Set(Uuid::new_v4()),
            node_id: Set(id),
            secret_sha256: Set(secret_sha256),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
            created_by: Set(Some(caller.user_id)),
        }
        .insert(&txn)
        .await
        .map_err(fail)?;
        let entry = Entry::new(Action::NodeAdd, &Resource::new(Kind::Node, id))
            .detail(serde_json::json!({ "name": name, "token_expires_at": show_time(expires_at) }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        let token = agent::proto::JoinToken {
            url,
            ca_sha256: authority.sha256().to_owned(),
            secret,
        }
        .encode();
        self.publish_node(id).await;
        tracing::info!(node = %id, %name, by = %caller.username, "node added; waiting for its agent");
        Ok(JoinTicket {
            node_id: id.to_string(),
            command: format!(
                "strata agent --token {token} --region REGION --data-dir /var/lib/strata"
            ),
            name,
            token,
            expires_at: show_time(expires_at),
        })
    }

    /// Redeems a join token for a certificate of the node it was made for. Refused (and
    /// audited) when the token is unknown, used or expired; nothing changes then.
    pub async fn redeem_join(
        &self,
        secret: &str,
        csr_pem: &str,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<Joined, AppError> {
        let secret_sha256 = hash_token(secret);
        let authority = self.node_authority(now).await?;
        let txn = self.db().begin().await.map_err(redeem_failed)?;
        // The claim is the transaction's first statement, a write: on SQLite a transaction
        // that reads first cannot take the write lock later; everywhere, two agents with one
        // token cannot both claim it.
        let claimed = join_token::Entity::update_many()
            .col_expr(join_token::Column::UsedAt, Expr::value(Some(now)))
            .filter(join_token::Column::SecretSha256.eq(&secret_sha256))
            .filter(join_token::Column::UsedAt.is_null())
            .filter(join_token::Column::ExpiresAt.gt(now))
            .exec(&txn)
            .await
            .map_err(redeem_failed)?;
        if claimed.rows_affected != 1 {
            txn.rollback().await.map_err(redeem_failed)?;
            return Err(self.refuse_join(&secret_sha256, client, now).await);
        }
        let token = join_token::Entity::find()
            .filter(join_token::Column::SecretSha256.eq(&secret_sha256))
            .one(&txn)
            .await
            .map_err(redeem_failed)?
            .ok_or_else(|| redeem_failed("the claimed token vanished"))?;
        let row = node::Entity::find_by_id(token.node_id)
            .one(&txn)
            .await
            .map_err(redeem_failed)?
            .ok_or_else(|| redeem_failed("the token's node vanished"))?;
        let cert = authority
            .sign_node(csr_pem, &row.id.to_string())
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        node::Entity::update_many()
            .col_expr(node::Column::CertSha256, Expr::value(Some(cert.sha256)))
            .col_expr(node::Column::JoinedAt, Expr::value(Some(now)))
            .col_expr(node::Column::Address, Expr::value(client.ip.clone()))
            .filter(node::Column::Id.eq(row.id))
            .exec(&txn)
            .await
            .map_err(redeem_failed)?;
        let entry = Entry::new(Action::NodeJoin, &Resource::new(Kind::Node, row.id))
            .detail(serde_json::json!({ "name": row.name }));
        audit::record(
            &txn,
            &crate::access::Authorized::system("join with a valid token"),
            &node_actor(&row.name, client),
            entry,
            Outcome::Success,
            now,
        )
        .await?;
        txn.commit().await.map_err(redeem_failed)?;
        tracing::info!(node = %row.id, name = %row.name, from = %client.ip, "node joined");
        Ok(Joined {
            node_id: row.id,
            name: row.name,
            certificate_pem: cert.pem,
            ca_pem: authority.cert_pem().to_owned(),
        })
    }

    /// Why a token that could not be claimed was refused; the refusal's audit row.
    async fn refuse_join(
        &self,
        secret_sha256: &str,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> AppError {
        let found = join_token::Entity::find()
            .filter(join_token::Column::SecretSha256.eq(secret_sha256))
            .one(self.db())
            .await;
        let (reason, entry) = match found {
            Ok(Some(token)) => {
                let reason = if token.used_at.is_some() {
                    "this join token was already used: add the node again for a new one"
                } else {
                    "this join token has expired: add the node again for a new one"
                };
                (
                    reason,
                    Entry::new(Action::NodeJoin, &Resource::new(Kind::Node, token.node_id)),
                )
            }
            Ok(None) => (
                "this join token is not known here",
                Entry::about(Action::NodeJoin, "node", "unknown"),
            ),
            Err(e) => return internal("refuse join token", e),
        };
        let entry = entry.detail(serde_json::json!({ "reason": reason }));
        if let Err(e) =
            audit::record_denied(self.db(), &node_actor("agent", client), entry, now).await
        {
            return e;
        }
        tracing::warn!(from = %client.ip, reason, "join refused");
        AppError::Forbidden(reason.into())
    }
}

fn redeem_failed(e: impl std::fmt::Display) -> AppError {
    internal("redeem join token", e)
}

/// An agent as the actor of an audit row.
pub(crate) fn node_actor(name: &str, client: &ClientInfo) -> Actor {
    Actor {
        id: None,
        name: format!("node {name}"),
        client: client.clone(),
    }
}
