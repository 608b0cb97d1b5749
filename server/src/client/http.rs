//! The REST API from the command line: requests with the bearer token, answers as JSON, and
//! problem details turned into messages and exit codes a script can tell apart.

use serde_json::Value;

/// Exit codes: 1 a refusal or failure not listed here, 2 bad usage or no login, 3 the token
/// was refused, 4 not found, 5 forbidden, 6 a conflict or a stale version, 7 a wait timed out.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: u8,
}

impl CliError {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code,
        }
    }

    fn of_problem(status: u16, body: &Value) -> Self {
        let detail = body["detail"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("the server answered {status}"));
        let code = match status {
            401 => 3,
            404 => 4,
            403 => 5,
            409 | 412 => 6,
            400 | 422 => 2,
            _ => 1,
        };
        Self::new(code, detail)
    }
}

pub type CliResult<T> = Result<T, CliError>;

/// A server and the token to call it with.
pub struct Api {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Api {
    pub fn new(server: &str, token: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .into();
        Self {
            base: format!("{}/api/v1", server.trim_end_matches('/')),
            token: token.trim().to_owned(),
            agent,
        }
    }

    pub fn get(&self, path: &str) -> CliResult<Value> {
        let url = format!("{}{path}", self.base);
        let res = self
            .agent
            .get(&url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .call();
        self.answer(&url, res)
    }

    pub fn post(&self, path: &str, body: &Value) -> CliResult<Value> {
        let url = format!("{}{path}", self.base);
        let res = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_str());
        self.answer(&url, res)
    }

    pub fn delete(&self, path: &str) -> CliResult<Value> {
        let url = format!("{}{path}", self.base);
        let res = self
            .agent
            .delete(&url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .call();
        self.answer(&url, res)
    }

    fn answer(
        &self,
        url: &str,
        res: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> CliResult<Value> {
        let mut res = res.map_err(|e| CliError::new(1, format!("cannot reach {url}: {e}")))?;
        let status = res.status().as_u16();
        let text = res
            .body_mut()
            .read_to_string()
            .map_err(|e| CliError::new(1, format!("bad answer from {url}: {e}")))?;
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                CliError::new(
                    1,
                    format!("{url} answered {status} with something other than JSON; is it a Strata server?"),
                )
            })?
        };
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(CliError::of_problem(status, &body))
        }
    }
}

/// Every item of a paged list (`items` or `vms`, following `next`).
pub fn all_pages(api: &Api, path: &str, field: &str) -> CliResult<Vec<Value>> {
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    let join = if path.contains('?') { '&' } else { '?' };
    loop {
        let url = match &after {
            Some(a) => format!("{path}{join}limit=1000&after={}", encode(a)),
            None => format!("{path}{join}limit=1000"),
        };
        let page = api.get(&url)?;
        if let Some(list) = page[field].as_array() {
            items.extend(list.iter().cloned());
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => return Ok(items),
        }
    }
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_become_exit_codes_and_queries_are_encoded() {
        let p = serde_json::json!({ "detail": "No such virtual machine." });
        let e = CliError::of_problem(404, &p);
        assert_eq!(
            (e.code, e.message.as_str()),
            (4, "No such virtual machine.")
        );
        assert_eq!(CliError::of_problem(412, &p).code, 6);
        assert_eq!(CliError::of_problem(401, &Value::Null).code, 3);
        assert_eq!(encode("acme\nweb 1"), "acme%0Aweb%201");
    }
}
