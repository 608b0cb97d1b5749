//! What the service page keeps across refetches: its actions, and whatever a person is
//! editing or has picked (the detail re-renders whenever a live event says it changed).

use leptos::prelude::*;
use model::services::{ConfigVersion, DeployRequest, DeploymentView, DiffLine, ServiceAction};
use model::AppError;

use crate::api::services::{
    act_on_service, delete_service, deploy_service, diff_service_config, rollback_service_config,
    save_service_config, scale_service,
};

type Done<T> = Result<T, AppError>;

/// Every change the page can ask for; each takes the service id first.
#[derive(Clone, Copy)]
pub struct Actions {
    pub act: Action<(String, ServiceAction), Done<DeploymentView>>,
    pub scale: Action<(String, u32), Done<DeploymentView>>,
    pub delete: Action<String, Done<DeploymentView>>,
    pub deploy: Action<(String, DeployRequest), Done<DeploymentView>>,
    /// (service, configuration, deploy at once)
    pub save: Action<(String, String, bool), Done<ConfigVersion>>,
    pub rollback: Action<(String, i64), Done<DeploymentView>>,
    /// (service, from, to)
    pub diff: Action<(String, i64, i64), Done<Vec<DiffLine>>>,
}

impl Actions {
    pub fn new() -> Self {
        Self {
            act: Action::new(|(id, a): &(String, ServiceAction)| act_on_service(id.clone(), *a)),
            scale: Action::new(|(id, n): &(String, u32)| scale_service(id.clone(), *n)),
            delete: Action::new(|id: &String| delete_service(id.clone())),
            deploy: Action::new(|(id, r): &(String, DeployRequest)| {
                deploy_service(id.clone(), r.clone())
            }),
            save: Action::new(|(id, config, deploy): &(String, String, bool)| {
                save_service_config(id.clone(), config.clone(), *deploy)
            }),
            rollback: Action::new(|(id, v): &(String, i64)| {
                rollback_service_config(id.clone(), *v)
            }),
            diff: Action::new(|(id, from, to): &(String, i64, i64)| {
                diff_service_config(id.clone(), *from, *to)
            }),
        }
    }

    /// Goes up whenever a change finished (the detail refetches).
    pub fn version(self) -> usize {
        self.act.version().get()
            + self.scale.version().get()
            + self.delete.version().get()
            + self.deploy.version().get()
            + self.save.version().get()
            + self.rollback.version().get()
    }

    /// The last failure of an action shown in the page's banner (saving shows its own).
    pub fn error(self) -> Option<AppError> {
        let result = |r: Option<Done<DeploymentView>>| r.and_then(Result::err);
        result(self.act.value().get())
            .or_else(|| result(self.scale.value().get()))
            .or_else(|| result(self.delete.value().get()))
            .or_else(|| result(self.deploy.value().get()))
            .or_else(|| result(self.rollback.value().get()))
    }
}

/// Drafts (None: show what the service has) and picks.
#[derive(Clone, Copy)]
pub struct Drafts {
    pub config: RwSignal<Option<String>>,
    pub replicas: RwSignal<Option<String>>,
    pub image: RwSignal<Option<String>>,
    pub version: RwSignal<Option<String>>,
    pub confirm_delete: RwSignal<bool>,
    /// The configuration version whose JSON is shown.
    pub viewing: RwSignal<Option<i64>>,
    /// Up to two versions picked for a diff.
    pub compare: RwSignal<Vec<i64>>,
    /// The deployment whose log is shown (None: the newest).
    pub deployment: RwSignal<Option<String>>,
}

impl Drafts {
    pub fn new() -> Self {
        Self {
            config: RwSignal::new(None),
            replicas: RwSignal::new(None),
            image: RwSignal::new(None),
            version: RwSignal::new(None),
            confirm_delete: RwSignal::new(false),
            viewing: RwSignal::new(None),
            compare: RwSignal::new(Vec::new()),
            deployment: RwSignal::new(None),
        }
    }

    /// Forgets everything (another service is shown).
    pub fn reset(self) {
        self.config.set(None);
        self.replicas.set(None);
        self.image.set(None);
        self.version.set(None);
        self.confirm_delete.set(false);
        self.viewing.set(None);
        self.compare.set(Vec::new());
        self.deployment.set(None);
    }

    /// Drops the drafts that a successful action made moot, and follows the newest
    /// deployment's log again (the one just asked for, if any).
    pub fn settle(self, actions: Actions) {
        after(actions.save, move || {
            self.config.set(None);
            self.compare.set(Vec::new());
            self.deployment.set(None);
        });
        after(actions.scale, move || {
            self.replicas.set(None);
            self.deployment.set(None);
        });
        after(actions.deploy, move || {
            self.image.set(None);
            self.version.set(None);
            self.deployment.set(None);
        });
        after(actions.rollback, move || self.deployment.set(None));
        after(actions.act, move || self.deployment.set(None));
        after(actions.delete, move || self.deployment.set(None));
    }
}

/// Runs `then` each time `action` succeeds.
fn after<I, T>(action: Action<I, Done<T>>, then: impl Fn() + 'static)
where
    I: Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            then();
        }
    });
}

/// Keeps the picked versions to at most two, dropping the older pick.
pub fn toggle_pick(picks: &mut Vec<i64>, version: i64) {
    if let Some(i) = picks.iter().position(|v| *v == version) {
        picks.remove(i);
    } else {
        picks.push(version);
        if picks.len() > 2 {
            picks.remove(0);
        }
    }
}
