//! Prometheus metrics (prometheus-client) and the HTTP endpoint that serves them with
//! liveness and readiness: `/metrics`, `/livez`, `/readyz`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use http_body_util::Full;
use hyper::body::Bytes;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodCode {
    method: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Method {
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteOutcome {
    route: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Scope {
    scope: String,
}

/// The gateway's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<MethodCode, Counter>,
    latency: Family<Method, Histogram>,
    records: Family<RouteOutcome, Counter>,
    rate_limited: Family<Scope, Counter>,
    ready: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("dss");
        let requests = Family::<MethodCode, Counter>::default();
        let latency = Family::<Method, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
                0.1, 0.25, 1.0,
            ])
        });
        let records = Family::<RouteOutcome, Counter>::default();
        let rate_limited = Family::<Scope, Counter>::default();
        registry.register(
            "grpc_requests",
            "gRPC calls by method and status code",
            requests.clone(),
        );
        registry.register(
            "grpc_request_duration_seconds",
            "gRPC call latency",
            latency.clone(),
        );
        registry.register(
            "records",
            "CRM records read across a border, by route and outcome (transferred, transformed, blocked)",
            records.clone(),
        );
        registry.register(
            "rate_limited",
            "calls refused by a rate limit, by scope",
            rate_limited.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            records,
            rate_limited,
            ready: AtomicBool::new(false),
        }
    }

    /// Counts `records` decided on a route: `transferred` (unchanged), `transformed` or
    /// `blocked`.
    pub fn record(&self, route: &str, outcome: &'static str, records: u64) {
        if records == 0 {
            return;
        }
        self.records
            .get_or_create(&RouteOutcome {
                route: route.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc_by(records);
    }

    /// Counts a call refused by a rate limit (`caller` or `tenant`).
    pub fn rate_limited(&self, scope: &str, _key: &str) {
        self.rate_limited
            .get_or_create(&Scope {
                scope: scope.to_owned(),
            })
            .inc();
    }

    /// Marks the gateway ready (serving) or not (draining).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    fn observe(&self, method: &str, code: &str, seconds: f64) {
        self.requests
            .get_or_create(&MethodCode {
                method: method.to_owned(),
                code: code.to_owned(),
            })
            .inc();
        self.latency
            .get_or_create(&Method {
                method: method.to_owned(),
            })
            .observe(seconds);
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a string");
        out
    }
}

/// A tower layer that measures every gRPC call.
#[derive(Clone)]
pub struct MetricsLayer(pub Arc<Metrics>);

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.0.clone(),
        }
    }
}

/// See [`MetricsLayer`].
#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B, R> tower::Service<http::Request<B>> for MetricsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = req.uri().path().to_owned();
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let future = self.inner.call(req);
        Box::pin(async move {
            let response = future.await;
            // Failed unary calls answer with the status in the headers ("trailers-only");
            // successful ones carry it in trailers, after the body.
            let code = match &response {
                Ok(r) => r
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("0")
                    .to_owned(),
                Err(_) => "transport".to_owned(),
            };
            metrics.observe(&method, &code, started.elapsed().as_secs_f64());
            response
        })
    }
}

/// Serves `/metrics`, `/livez` and `/readyz` on `addr` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (stream, _): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => continue,
            },
            _ = shutdown.changed() => return,
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let metrics = metrics.clone();
                    async move {
                        let (status, body) = match req.uri().path() {
                            "/metrics" => (200, metrics.encode()),
                            "/livez" => (200, "ok\n".to_owned()),
                            "/readyz" if metrics.ready.load(Ordering::Relaxed) => {
                                (200, "ready\n".to_owned())
                            }
                            "/readyz" => (503, "not ready\n".to_owned()),
                            _ => (404, "not found\n".to_owned()),
                        };
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .header("content-type", "text/plain; version=0.0.4")
                                .body(Full::new(Bytes::from(body)))
                                .expect("a valid response"),
                        )
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
