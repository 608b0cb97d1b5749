//! One deployment's log as the page shows it: fetched when picked and again once it finished
//! (which settles any line missed in between), with live lines appended meanwhile.

use leptos::prelude::*;
use model::services::DeploymentLogLine;

use crate::api::services::deployment_log;

/// The lines of `stream` (a deployment's id); refetched when `finished` turns true.
pub fn log_feed(
    stream: Memo<Option<String>>,
    finished: Memo<bool>,
) -> RwSignal<(String, Vec<DeploymentLogLine>)> {
    let live = crate::live::use_live();
    let held = RwSignal::new((String::new(), Vec::new()));
    // Another deployment picked: start it empty, so its live lines are not mixed with others.
    Effect::new(move |_| {
        let id = stream.get().unwrap_or_default();
        if held.with_untracked(|(s, _)| *s != id) {
            held.set((id, Vec::new()));
        }
    });
    let fetched = LocalResource::new(move || {
        let (id, _) = (stream.get(), finished.get());
        async move {
            match id {
                Some(id) => {
                    let lines = deployment_log(id.clone()).await;
                    (id, lines.unwrap_or_default())
                }
                None => (String::new(), Vec::new()),
            }
        }
    });
    Effect::new(move |_| {
        if let Some((id, lines)) = fetched.get() {
            held.try_update(|h| settle(h, id, lines));
        }
    });
    Effect::new(move |_| {
        let Some((id, line)) = live.log.get() else {
            return;
        };
        if held.try_with_untracked(|(s, lines)| *s == id && !lines.contains(&line)) == Some(true) {
            held.try_update(|(_, lines)| lines.push(line));
        }
    });
    held
}

/// Replaces what is held with `fetched`, keeping live lines of the same stream that arrived
/// after the fetch was answered.
pub fn settle(
    held: &mut (String, Vec<DeploymentLogLine>),
    id: String,
    fetched: Vec<DeploymentLogLine>,
) {
    let later: Vec<DeploymentLogLine> = if held.0 == id {
        let last = fetched.last().map(|l| l.at.clone()).unwrap_or_default();
        held.1
            .drain(..)
            .filter(|l| !fetched.contains(l) && l.at >= last)
            .collect()
    } else {
        Vec::new()
    };
    held.0 = id;
    held.1 = fetched;
    held.1.extend(later);
}
