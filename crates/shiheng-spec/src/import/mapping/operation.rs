//! The operation: `x-pagination` inferred from the field names (with
//! `cursorKey` when the cursor is a key), `x-idempotent`, `x-cli-command`,
//! and the path item in the spec's shape.

use super::{
    Mapper, PAGE_PARAMS, PAGES_FIELDS, Pagination, SIZE_PARAMS, TOTAL_FIELDS, json_content,
};
use crate::import::page::{Field, FieldType};
use crate::import::prose;
use crate::import::yaml::Yaml;

impl Mapper<'_> {
    pub(super) fn pagination(
        &mut self,
        params: &[Field],
        payload: &[Field],
        items: Option<&Field>,
    ) -> Option<Pagination> {
        let find = |fields: &[Field], names: &[&str]| {
            names
                .iter()
                .find_map(|n| {
                    fields
                        .iter()
                        .find(|f| f.name == *n && f.ty == FieldType::Integer)
                })
                .map(|f| f.name.clone())
        };
        let page = find(params, PAGE_PARAMS);
        let size = find(params, SIZE_PARAMS);
        let cursor_field = params.iter().find(|f| {
            let lower = f.name.to_ascii_lowercase();
            f.ty == FieldType::Integer
                && (lower == "cursor"
                    || (["start", "last", "since", "from", "min"]
                        .iter()
                        .any(|p| lower.starts_with(p))
                        && lower.ends_with("id")))
        });
        let pages = find(payload, PAGES_FIELDS);
        let total = find(payload, TOTAL_FIELDS);
        let next = payload
            .iter()
            .find(|f| f.name.to_ascii_lowercase().starts_with("next") && f.ty == FieldType::Integer)
            .map(|f| f.name.clone());
        let found = match (&page, &size, &pages, &total, cursor_field, &next) {
            (Some(page), Some(size), Some(pages), Some(total), _, _) => {
                Some(Pagination::PageNumber {
                    page: page.clone(),
                    size: size.clone(),
                    pages: pages.clone(),
                    total: total.clone(),
                })
            }
            (_, Some(size), _, _, Some(cursor), Some(next)) => {
                let (_, written) = prose::bounds(&cursor.description).unwrap_or_default();
                let words = cursor.description.replace(&written, " ");
                let keyed = words.contains("大于")
                    || words.contains('>')
                    || words.to_ascii_lowercase().contains("greater than");
                Some(Pagination::Cursor {
                    cursor: cursor.name.clone(),
                    size: size.clone(),
                    next: next.clone(),
                    keyed,
                })
            }
            _ => None,
        };
        let hints = [
            page.as_deref(),
            size.as_deref(),
            cursor_field.map(|f| f.name.as_str()),
            pages.as_deref(),
            total.as_deref(),
            next.as_deref(),
        ];
        match (&found, items) {
            (Some(_), None) => {
                self.report.operation.push(
                    "no x-pagination: the paging fields are there but the answer has no array of objects (result, list, records...) to page through"
                        .into(),
                );
                None
            }
            (Some(_), Some(items))
                if !items
                    .children
                    .iter()
                    .any(|f| f.name == "id" && f.ty == FieldType::Integer) =>
            {
                self.report.operation.push(format!(
                    "no x-pagination: the items (`{}`) have no integer `id` for the paginators to drop duplicates by",
                    items.name
                ));
                None
            }
            (None, _) if hints.iter().any(Option::is_some) => {
                let present: Vec<&str> = hints.iter().flatten().copied().collect();
                self.report.operation.push(format!(
                    "no x-pagination: found only {} (page-number needs a page number and size in the request and pages and total in the answer; cursor needs a start id and size in the request and a next id in the answer)",
                    present.join(", ")
                ));
                None
            }
            _ => found,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn operation(
        &mut self,
        operation_id: &str,
        tag: &str,
        request: &str,
        response: &str,
        pagination: &Option<Pagination>,
        items: Option<&str>,
        cli_command: Option<&str>,
    ) -> Yaml {
        let summary = prose::summary(operation_id);
        let (summary, description) = match pagination {
            Some(Pagination::PageNumber { .. }) => (
                format!("{summary}, one page at a time"),
                "Page-number pagination, imported from the platform's page.",
            ),
            Some(Pagination::Cursor { .. }) => (
                format!("{summary} by cursor"),
                "Cursor pagination, imported from the platform's page.",
            ),
            None => (summary, "One call, imported from the platform's page."),
        };
        let mut entries = vec![
            ("tags".into(), Yaml::Flow(vec![Yaml::str(tag)])),
            ("operationId".into(), Yaml::str(operation_id)),
            ("summary".into(), Yaml::Str(summary)),
            ("description".into(), Yaml::str(description)),
        ];
        if prose::is_read(operation_id) {
            entries.push(("x-idempotent".into(), Yaml::Bool(true)));
            self.report.operation.push(format!(
                "x-idempotent: true (`{}` is a read verb: list, query, get, page, search, find, fetch, count, batch)",
                prose::words(operation_id)[0]
            ));
        } else {
            self.report.operation.push(
                "no x-idempotent: the operationId does not start with a read verb (list, query, get...), so a client will not retry it blindly"
                    .into(),
            );
        }
        let items = items.unwrap_or("result").to_string();
        match pagination {
            Some(Pagination::PageNumber {
                page,
                size,
                pages,
                total,
            }) => {
                entries.push((
                    "x-pagination".into(),
                    Yaml::Map(vec![
                        ("style".into(), Yaml::str("page-number")),
                        ("page".into(), Yaml::str(page)),
                        ("pageSize".into(), Yaml::str(size)),
                        ("pages".into(), Yaml::str(pages)),
                        ("total".into(), Yaml::str(total)),
                        ("items".into(), Yaml::str(&items)),
                        ("itemId".into(), Yaml::str("id")),
                    ]),
                ));
                self.report.operation.push(format!(
                    "x-pagination page-number: the request has {page} and {size}, the answer {pages} and {total}; items `{items}`, itemId `id`"
                ));
            }
            Some(Pagination::Cursor {
                cursor,
                size,
                next,
                keyed,
            }) => {
                let mut pagination = vec![
                    ("style".into(), Yaml::str("cursor")),
                    ("cursor".into(), Yaml::str(cursor)),
                    ("pageSize".into(), Yaml::str(size)),
                    ("nextCursor".into(), Yaml::str(next)),
                    ("items".into(), Yaml::str(&items)),
                    ("itemId".into(), Yaml::str("id")),
                ];
                if *keyed {
                    pagination.push(("cursorKey".into(), Yaml::str("id")));
                }
                entries.push(("x-pagination".into(), Yaml::Map(pagination)));
                self.report.operation.push(format!(
                    "x-pagination cursor: the request has {cursor} and {size}, the answer {next}; items `{items}`, itemId `id`"
                ));
                if *keyed {
                    self.report.operation.push(format!(
                        "cursorKey: id — `{cursor}`'s description says items come with an id greater than it (the cursor is a monotone integer key; the next cursor is the last item's id)"
                    ));
                }
            }
            None => {
                if !self
                    .report
                    .operation
                    .iter()
                    .any(|l| l.starts_with("no x-pagination"))
                {
                    self.report
                        .operation
                        .push("no x-pagination: the request has no page number or start id".into());
                }
            }
        }
        match cli_command {
            Some(command) => {
                entries.push(("x-cli-command".into(), Yaml::str(command)));
                self.report
                    .operation
                    .push(format!("x-cli-command: {command} (the CLI's subcommand)"));
            }
            None => self.report.operation.push(format!(
                "no x-cli-command: the CLI will name the command `{}` (the operationId in kebab-case)",
                prose::kebab(operation_id)
            )),
        }
        entries.push(("security".into(), Yaml::Flow(Vec::new())));
        entries.push((
            "requestBody".into(),
            Yaml::Map(vec![
                ("required".into(), Yaml::Bool(true)),
                ("content".into(), json_content(request)),
            ]),
        ));
        let mut responses = vec![(
            "200".into(),
            Yaml::Map(vec![
                (
                    "description".into(),
                    Yaml::str("The response envelope; `code` says whether the call succeeded."),
                ),
                ("content".into(), json_content(response)),
            ]),
        )];
        if self
            .spec
            .pointer("/components/responses/InvalidRequest")
            .is_some()
        {
            responses.push((
                "400".into(),
                Yaml::Map(vec![(
                    "$ref".into(),
                    Yaml::str("#/components/responses/InvalidRequest"),
                )]),
            ));
        }
        entries.push(("responses".into(), Yaml::Map(responses)));
        Yaml::Map(entries)
    }
}
