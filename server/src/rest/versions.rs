//! Optimistic concurrency: a resource's generation is its `ETag`; a write with `If-Match`
//! naming an older one is refused with 412 (the use case checks it under the row's lock).

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use model::AppError;

/// The version a write expects (`If-Match: "7"`); `*` or no header: any version.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, AppError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|_| {
            AppError::Invalid(
                "If-Match takes the resource's generation, like \"7\" (its ETag).".into(),
            )
        })
}

/// `res` with `ETag: "<generation>"`.
pub fn with_etag(mut res: Response, generation: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{generation}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_reads_a_generation_or_any() {
        let mut h = HeaderMap::new();
        assert_eq!(if_match(&h).unwrap(), None);
        h.insert(header::IF_MATCH, "\"7\"".parse().unwrap());
        assert_eq!(if_match(&h).unwrap(), Some(7));
        h.insert(header::IF_MATCH, "W/\"8\"".parse().unwrap());
        assert_eq!(if_match(&h).unwrap(), Some(8));
        h.insert(header::IF_MATCH, "*".parse().unwrap());
        assert_eq!(if_match(&h).unwrap(), None);
        h.insert(header::IF_MATCH, "\"x\"".parse().unwrap());
        assert!(if_match(&h).is_err());
    }
}
