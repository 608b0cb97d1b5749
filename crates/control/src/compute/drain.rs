//! Draining a node before maintenance: it is cordoned, marked draining, and every service with
//! replicas on it gets a deployment whose rollout replaces them on other nodes (a new replica
//! boots before the old one stops). Plain VMs stay: their disks are on the node; the report
//! names them.

use chrono::{DateTime, Utc};
use model::nodes::DrainReport;
use model::services::DeploymentKind;
use model::AppError;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};

use crate::access::model::{Kind, Permission, Resource};
use crate::access::{not_found, parse_id};
use crate::audit::{self, Action, Entry};
use crate::auth::Caller;
use crate::entities::states::Desired;
use crate::entities::{node, service, vm};
use crate::locking::lock_row;
use crate::services::changes::{Change, Requester};
use crate::{internal, Control};

impl Control {
    /// Drains `node_id`: cordoned and draining, its replicas' services redeployed, in one
    /// transaction. Says what moves and what stays.
    pub async fn drain_node(
        &self,
        caller: &Caller,
        node_id: &str,
        now: DateTime<Utc>,
    ) -> Result<DrainReport, AppError> {
        let id = parse_id(node_id, Kind::Node)?;
        let allowed = self
            .authorize_action(
                caller,
                Permission::ManageNodes,
                &Resource::platform(),
                Action::NodeDrain,
            )
            .await?;
        let fail = |e| internal("drain node", e);
        let txn = self.db().begin().await.map_err(fail)?;
        // The write first: it takes the node's lock, as placement does, before anything is read.
        let done = node::Entity::update_many()
            .col_expr(node::Column::Cordoned, Expr::value(true))
            .col_expr(node::Column::Draining, Expr::value(true))
            .filter(node::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(fail)?;
        if done.rows_affected == 0 {
            return Err(not_found(Kind::Node));
        }
        let vms = vm::Entity::find()
            .filter(vm::Column::NodeId.eq(id))
            .order_by_asc(vm::Column::Name)
            .all(&txn)
            .await
            .map_err(fail)?;
        let mut report = DrainReport::default();
        let mut services = Vec::new();
        for row in &vms {
            match row.service_id {
                Some(s) => {
                    if !services.contains(&s) {
                        services.push(s);
                    }
                }
                None => report.staying.push(row.name.clone()),
            }
        }
        let mut requested = Vec::new();
        for service_id in services {
            let svc = lock_row::<service::Entity>(&txn, service_id).await?;
            for row in vms.iter().filter(|r| r.service_id == Some(service_id)) {
                report
                    .moving
                    .push(format!("{} (service {})", row.name, svc.name));
            }
            if svc.desired_state == Desired::Running {
                requested.push(
                    self.request_deployment(
                        &txn,
                        &allowed,
                        &svc,
                        Change::default(),
                        DeploymentKind::Scale,
                        Requester::Person(caller),
                        now,
                    )
                    .await?,
                );
            }
        }
        let entry = Entry::new(Action::NodeDrain, &Resource::new(Kind::Node, id))
            .detail(serde_json::json!({ "moving": report.moving, "staying": report.staying }));
        audit::record_success(&txn, &allowed, caller, entry, now).await?;
        txn.commit().await.map_err(fail)?;
        for (dep, line) in requested {
            self.after_request(&dep, line).await;
        }
        self.publish_node(id).await;
        tracing::info!(node = %id, by = %caller.username, moving = report.moving.len(), staying = report.staying.len(), "node draining");
        Ok(report)
    }
}
