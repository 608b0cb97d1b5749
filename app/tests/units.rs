//! Unit tests of the UI's pure functions (merging samples and log lines, scaling, wording).
//!
//! They live here, not in `#[cfg(test)]` modules, so the test build links the `app` library the
//! release build already compiled instead of compiling the whole UI again as a test harness.

mod metrics_feed {
    use app::components::metrics_feed::{average_cpu, cpu, merge, per_vm, HOUR_MS};
    use model::services::MetricSample;

    fn at(vm: &str, at_ms: i64, cpu: f64) -> MetricSample {
        MetricSample {
            at_ms,
            vm_id: vm.into(),
            cpu_percent: cpu,
            rss_bytes: 0,
            uptime_seconds: 0.0,
        }
    }

    #[test]
    fn merging_orders_dedupes_and_forgets_old_samples() {
        let mut list = vec![at("a", 1_000, 1.0), at("a", 3_000, 3.0)];
        merge(&mut list, at("a", 2_000, 2.0));
        merge(&mut list, at("a", 2_000, 2.0));
        assert_eq!(
            list.iter().map(|s| s.at_ms).collect::<Vec<_>>(),
            [1_000, 2_000, 3_000]
        );
        merge(&mut list, at("a", 1_000 + HOUR_MS + 1, 4.0));
        assert_eq!(list.len(), 3);
    }

    #[test]
    fn series_split_by_vm_and_buckets_average() {
        let list = [at("b", 1, 1.0), at("a", 2, 2.0), at("b", 3, 3.0)];
        let series = per_vm(&list, |id| (id == "a").then(|| "web-1".into()), cpu);
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].label, "b");
        assert_eq!(series[1].points, [(2, 2.0)]);
        assert_eq!(average_cpu(&list, 10), [2.0]);
    }
}

mod human {
    use app::components::human::duration;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(-3), "0 s");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(600), "10 min");
        assert_eq!(duration(3_600 * 3 + 300), "3 h 5 min");
        assert_eq!(duration(86_400 * 2 + 3_600 * 4), "2 d 4 h");
    }
}

mod sparkline {
    use app::components::sparkline::{ceiling, points};

    #[test]
    fn values_are_scaled_into_the_box() {
        let p = points(&[(0.0, 0.0), (1.0, 10.0)], (0.0, 1.0), 10.0, 100.0, 21.0);
        assert_eq!(p, "0.0,20.5 100.0,0.5");
        assert_eq!(ceiling([0.2, 0.4], 1.0), 1.0);
        assert_eq!(ceiling([3.0, 7.5], 1.0), 7.5);
    }
}

mod log_feed {
    use app::pages::service::log_feed::settle;
    use model::services::DeploymentLogLine;

    fn line(at: &str, message: &str) -> DeploymentLogLine {
        DeploymentLogLine {
            at: at.into(),
            level: "info".into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_refetch_keeps_later_live_lines_once() {
        let mut held = ("d".to_owned(), vec![line("1", "a"), line("3", "c")]);
        settle(&mut held, "d".into(), vec![line("1", "a"), line("2", "b")]);
        assert_eq!(held.1, [line("1", "a"), line("2", "b"), line("3", "c")]);
        settle(&mut held, "e".into(), vec![line("1", "x")]);
        assert_eq!(held, ("e".to_owned(), vec![line("1", "x")]));
    }
}
