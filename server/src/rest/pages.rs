//! Cursor pagination for lists the control plane returns whole: a page starts after the item
//! whose id is the cursor (ids never change, so a cursor stays valid as items come and go).

use model::AppError;
use serde::Deserialize;
use utoipa::IntoParams;

/// Items a page holds when the request does not say.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most items one page may hold.
pub const MAX_LIMIT: u32 = 1000;

/// Where a page starts and how long it is.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// One page of `items`, and the cursor of the next page when there is one.
pub fn page<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> &str,
    query: &PageQuery,
) -> Result<(Vec<T>, Option<String>), AppError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize;
    let start =
        match query.after.as_deref().filter(|a| !a.is_empty()) {
            Some(after) => {
                items.iter().position(|i| id(i) == after).ok_or_else(|| {
                    AppError::Invalid("That page of the list does not exist.".into())
                })? + 1
            }
            None => 0,
        };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = (start + page.len() < total)
        .then(|| page.last().map(|i| id(i).to_owned()))
        .flatten();
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_their_cursor_to_the_end() {
        let items: Vec<String> = (0..5).map(|i| format!("id{i}")).collect();
        let q = |after: Option<&str>| PageQuery {
            after: after.map(str::to_owned),
            limit: Some(2),
        };
        let (p1, n1) = page(items.clone(), |s| s, &q(None)).unwrap();
        assert_eq!((p1.len(), n1.as_deref()), (2, Some("id1")));
        let (p3, n3) = page(items.clone(), |s| s, &q(Some("id3"))).unwrap();
        assert_eq!((p3, n3), (vec!["id4".to_owned()], None));
        assert!(page(items, |s| s, &q(Some("gone"))).is_err());
    }
}
