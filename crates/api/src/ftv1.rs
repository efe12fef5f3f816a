//! Inline federated tracing ("ftv1"): when the router sends `apollo-federation-include-trace:
//! ftv1`, the response carries `extensions.ftv1`, a base64 protobuf `Trace` with a node per
//! resolved field (response name, type, parent type, start and end), which the router merges
//! into its own trace for Apollo Studio.
//!
//! The protobuf messages are the few of Apollo's `reports.proto` the router reads, declared by
//! hand with the upstream field numbers (which are the wire format and must not change).
//! Traces carry field timings and error messages only: never variables or values.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo,
};
use async_graphql::{QueryPathNode, QueryPathSegment, Response, ServerResult, Value};
use base64::Engine as _;
use prost::Message as _;

/// The request header the router sends to ask for a trace.
pub const INCLUDE_TRACE_HEADER: &str = "apollo-federation-include-trace";
/// The only value of [`INCLUDE_TRACE_HEADER`] that asks for a trace.
pub const FTV1: &str = "ftv1";

/// Request data: this request asked for an inline trace.
#[derive(Debug, Clone, Copy)]
pub struct TraceRequested;

/// Apollo's `reports.proto`, the part an inline trace uses.
pub mod proto {
    /// `google.protobuf.Timestamp`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Timestamp {
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Trace {
        #[prost(message, optional, tag = "3")]
        pub end_time: Option<Timestamp>,
        #[prost(message, optional, tag = "4")]
        pub start_time: Option<Timestamp>,
        #[prost(uint64, tag = "11")]
        pub duration_ns: u64,
        #[prost(message, optional, tag = "14")]
        pub root: Option<Node>,
        /// Studio scales field statistics by it; 1 like Apollo Server (no sampling here).
        #[prost(double, tag = "31")]
        pub field_execution_weight: f64,
    }

    /// One field (or one list element) of the response tree.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Node {
        #[prost(oneof = "NodeId", tags = "1, 2")]
        pub id: Option<NodeId>,
        /// The field's return type, e.g. `[MatchEdge!]!`.
        #[prost(string, tag = "3")]
        pub r#type: String,
        /// Nanoseconds since the trace's start.
        #[prost(uint64, tag = "8")]
        pub start_time: u64,
        #[prost(uint64, tag = "9")]
        pub end_time: u64,
        #[prost(message, repeated, tag = "11")]
        pub error: Vec<Error>,
        #[prost(message, repeated, tag = "12")]
        pub child: Vec<Node>,
        #[prost(string, tag = "13")]
        pub parent_type: String,
        /// Set only when the response name is an alias.
        #[prost(string, tag = "14")]
        pub original_field_name: String,
    }

    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum NodeId {
        /// A field, by its response name (the alias when there is one).
        #[prost(string, tag = "1")]
        ResponseName(String),
        /// An element of a list.
        #[prost(uint32, tag = "2")]
        Index(u32),
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Error {
        #[prost(string, tag = "1")]
        pub message: String,
        #[prost(message, repeated, tag = "2")]
        pub location: Vec<Location>,
        #[prost(string, tag = "4")]
        pub json: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Location {
        #[prost(uint32, tag = "1")]
        pub line: u32,
        #[prost(uint32, tag = "2")]
        pub column: u32,
    }
}

/// Decodes the value of `extensions.ftv1` (for tests and tools).
pub fn decode_trace(base64_text: &str) -> Option<proto::Trace> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_text)
        .ok()?;
    proto::Trace::decode(bytes.as_slice()).ok()
}

/// The extension; it costs one atomic load per field when no trace is asked for.
pub struct FederatedTracing;

impl ExtensionFactory for FederatedTracing {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FederatedTracingExtension {
            enabled: AtomicBool::new(false),
            state: Mutex::new(None),
        })
    }
}

struct FederatedTracingExtension {
    enabled: AtomicBool,
    state: Mutex<Option<TraceState>>,
}

struct TraceState {
    started: Instant,
    fields: Vec<FieldTiming>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Name(String),
    Index(usize),
}

struct FieldTiming {
    path: Vec<Segment>,
    node: proto::Node,
}

impl FederatedTracingExtension {
    fn state(&self) -> MutexGuard<'_, Option<TraceState>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for FederatedTracingExtension {
    async fn execute(
        &self,
        context: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if context.data_opt::<TraceRequested>().is_none() {
            return next.run(context, operation_name).await;
        }
        let start_wall = SystemTime::now();
        let started = Instant::now();
        *self.state() = Some(TraceState {
            started,
            fields: Vec::new(),
        });
        self.enabled.store(true, Ordering::Release);
        let mut response = next.run(context, operation_name).await;
        self.enabled.store(false, Ordering::Release);
        let duration_ns = nanos(started.elapsed());
        let Some(state) = self.state().take() else {
            return response;
        };
        let trace = proto::Trace {
            start_time: Some(timestamp(start_wall)),
            end_time: Some(timestamp(SystemTime::now())),
            duration_ns,
            root: Some(build_tree(state.fields)),
            field_execution_weight: 1.0,
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(trace.encode_to_vec());
        response
            .extensions
            .insert("ftv1".to_owned(), Value::String(encoded));
        response
    }

    async fn resolve(
        &self,
        context: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // async-graphql also calls this for each element of a list field; elements get index
        // nodes when their own fields are traced (as Apollo Server does), nothing more.
        if !self.enabled.load(Ordering::Acquire)
            || info.is_for_introspection
            || matches!(info.path_node.segment, QueryPathSegment::Index(_))
        {
            return next.run(context, info).await;
        }
        let Some(started) = self.state().as_ref().map(|state| state.started) else {
            return next.run(context, info).await;
        };
        let path = path_of(info.path_node);
        let response_name = info.alias.unwrap_or(info.name).to_owned();
        let original_field_name = if info.alias.is_some() {
            info.name.to_owned()
        } else {
            String::new()
        };
        let r#type = info.return_type.to_owned();
        let parent_type = info.parent_type.to_owned();
        let start_time = nanos(started.elapsed());
        let result = next.run(context, info).await;
        let end_time = nanos(started.elapsed());
        let error = match &result {
            Err(error) => vec![proto::Error {
                message: error.message.clone(),
                location: error
                    .locations
                    .iter()
                    .map(|position| proto::Location {
                        line: u32::try_from(position.line).unwrap_or(u32::MAX),
                        column: u32::try_from(position.column).unwrap_or(u32::MAX),
                    })
                    .collect(),
                json: String::new(),
            }],
            Ok(_) => Vec::new(),
        };
        if let Some(state) = self.state().as_mut() {
            state.fields.push(FieldTiming {
                path,
                node: proto::Node {
                    id: Some(proto::NodeId::ResponseName(response_name)),
                    r#type,
                    start_time,
                    end_time,
                    error,
                    child: Vec::new(),
                    parent_type,
                    original_field_name,
                },
            });
        }
        result
    }
}

fn nanos(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

fn timestamp(time: SystemTime) -> proto::Timestamp {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    proto::Timestamp {
        seconds: i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(since_epoch.subsec_nanos()).unwrap_or(0),
    }
}

fn path_of(node: &QueryPathNode<'_>) -> Vec<Segment> {
    let mut path = Vec::new();
    let mut current = Some(node);
    while let Some(node) = current {
        path.push(match node.segment {
            QueryPathSegment::Name(name) => Segment::Name(name.to_owned()),
            QueryPathSegment::Index(index) => Segment::Index(index),
        });
        current = node.parent;
    }
    path.reverse();
    path
}

/// Nests field nodes by their response paths; list elements become index nodes. Fields finish
/// after their children, so a field's node may already exist (as a placeholder) when its own
/// timing arrives: it is filled in then.
fn build_tree(fields: Vec<FieldTiming>) -> proto::Node {
    let mut root = proto::Node::default();
    for field in fields {
        insert(&mut root, &field.path, field.node);
    }
    root
}

fn insert(parent: &mut proto::Node, path: &[Segment], leaf: proto::Node) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let id = match first {
        Segment::Name(name) => proto::NodeId::ResponseName(name.clone()),
        Segment::Index(index) => proto::NodeId::Index(u32::try_from(*index).unwrap_or(u32::MAX)),
    };
    let position = match parent
        .child
        .iter()
        .position(|child| child.id.as_ref() == Some(&id))
    {
        Some(position) => position,
        None => {
            parent.child.push(proto::Node {
                id: Some(id),
                ..proto::Node::default()
            });
            parent.child.len() - 1
        }
    };
    let child = &mut parent.child[position];
    if rest.is_empty() {
        let children = std::mem::take(&mut child.child);
        *child = proto::Node {
            child: children,
            ..leaf
        };
    } else {
        insert(child, rest, leaf);
    }
}
