// Wire types of API v1 (internal/api/wire.go). Every list is present (never
// null) and absent ids are "", so the UI reads them without guards.

/** A typed attribute value: string, number, boolean, array or object. */
export type AttrValue = unknown;
export type Attributes = Record<string, AttrValue>;

export interface SpanStatus {
  code: "unset" | "ok" | "error" | string;
  message: string;
}

export interface SpanEvent {
  time: number;
  name: string;
  attributes: Attributes;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Attributes;
}

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState?: string;
  name: string;
  kind: string;
  service: string;
  scopeName?: string;
  scopeVersion?: string;
  startTime: number;
  durationNs: number;
  status: SpanStatus;
  function: string;
  invocationId: string;
  coldStart: boolean;
  trigger: string;
  messagingSystem: string;
  messagingOperation?: string;
  destination: string;
  messageIds: string[];
  httpMethod: string;
  httpRoute: string;
  httpStatus: number;
  dbSystem: string;
  errorType: string;
  errorMessage: string;
  requestPayload: string;
  responsePayload: string;
  attributes: Attributes;
  resourceAttributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
}

export interface LogRecord {
  time: number;
  observedTime?: number;
  traceId: string;
  spanId: string;
  severityNumber: number;
  severityText: string;
  body: AttrValue;
  service: string;
  function: string;
  invocationId: string;
  scopeName?: string;
  attributes: Attributes;
  resourceAttributes?: Attributes;
}

export interface Invocation {
  requestId: string;
  function: string;
  source: string;
  start: number;
  durationNs: number;
  billedDurationNs: number;
  initDurationNs: number;
  deadline: number;
  memoryMb: number;
  maxMemoryMb: number;
  status: string;
  errorType: string;
  coldStart: boolean;
  attempt: number;
  traceId: string;
  spanId: string;
}

export interface TraceResponse {
  spans: Span[];
  logs: LogRecord[];
  invocations: Invocation[];
}

export interface TraceSummary {
  traceId: string;
  rootService: string;
  rootName: string;
  startTime: number;
  durationNs: number;
  spanCount: number;
  errorCount: number;
}

export interface SearchResponse {
  traces: TraceSummary[];
  nextCursor: string;
}

/** GET /api/v1/transactions/{traceId}: the traces joined by async hops. */
export interface TransactionResponse {
  traceId: string;
  status: string;
  failedTraces: number;
  startTime: number;
  endTime: number;
  durationNs: number;
  truncated: boolean;
  truncatedReasons: string[];
  destinations: string[];
  traces: TransactionTrace[];
  edges: TransactionEdge[];
  criticalPath: { kind: string; traceId: string; spanId: string; startTime: number; endTime: number }[];
  spans: TransactionSpan[];
}

export interface TransactionTrace {
  traceId: string;
  depth: number;
  rootService: string;
  rootName: string;
  function: string;
  trigger: string;
  startTime: number;
  durationNs: number;
  spanCount: number;
  errorCount: number;
  status: string;
  missing: boolean;
}

export interface TransactionEdge {
  producerTraceId: string;
  producerSpanId: string;
  consumerTraceId: string;
  consumerSpanId: string;
  channel: string;
  destination: string;
  messageIds: string[];
  keys: string[];
  producerEnd: number;
  consumerStart: number;
  lagNs: number | null;
  status: string;
}

/** A span summary of a transaction: the fields of Span that draw a timeline. */
export type TransactionSpan = Pick<
  Span,
  | "traceId"
  | "spanId"
  | "parentSpanId"
  | "name"
  | "kind"
  | "service"
  | "startTime"
  | "durationNs"
  | "status"
  | "function"
  | "invocationId"
  | "coldStart"
  | "trigger"
  | "messagingSystem"
  | "messagingOperation"
  | "destination"
  | "messageIds"
  | "httpStatus"
  | "errorType"
  | "errorMessage"
>;

/** GET /api/v1/invocations: merged invocation records, newest first. */
export interface InvocationRecord extends Invocation {
  costUsd: number;
}

export interface InvocationsResponse {
  invocations: InvocationRecord[];
  nextCursor: string;
}

/** RED figures of a service-map node or edge. */
export interface REDStats {
  count: number;
  errors: number;
  rate: number;
  errorRate: number;
  p50Ns: number;
  p95Ns: number;
  p99Ns: number;
}

export interface MapNode extends REDStats {
  id: string;
  kind: string;
  name: string;
  service: string;
  instrumented: boolean;
  coldStarts: number;
  coldStartShare: number;
}

export interface MapEdge extends REDStats {
  id: string;
  from: string;
  to: string;
  /** call (synchronous) | produce | route | consume | invoke (asynchronous) */
  kind: string;
  lag: { count: number; p50Ns: number; p95Ns: number; p99Ns: number } | null;
}

/** GET /api/v1/servicemap */
export interface ServiceMapResponse {
  start: number;
  end: number;
  nodes: MapNode[];
  edges: MapEdge[];
  truncated: boolean;
  truncatedReasons: string[];
}

/** GET /api/v1/metrics/red */
export interface REDResponse {
  start: number;
  end: number;
  stepNs: number;
  series: { group: string; points: (REDStats & { time: number; coldStarts: number })[] }[];
}

/** GET /api/v1/transactions */
export interface TransactionSummary {
  traceId: string;
  rootService: string;
  rootName: string;
  traceIds: string[];
  traceCount: number;
  edgeCount: number;
  failedTraces: number;
  status: string;
  startTime: number;
  durationNs: number;
  channels: string[];
  truncated: boolean;
}

/** GET /api/v1/cost */
export interface CostResponse {
  start: number;
  end: number;
  functions: { function: string; invocations: number; billed: number; gbSeconds: number; costUsd: number }[];
  total: { invocations: number; billed: number; costUsd: number };
  truncated: boolean;
}

/** GET /api/v1/issues, /issues/{id} */
export interface Issue {
  id: string;
  kind: string;
  title: string;
  function: string;
  channel: string;
  severity: string;
  status: "open" | "resolved" | "ignored" | string;
  firstSeen: number;
  lastSeen: number;
  count: number;
  sampleTraces: string[];
  explanation: string;
  openedAt: number;
  resolvedAt: number;
  regressions: number;
  updatedAt: number;
  /** Occurrences per bucket of the answer's series range ([] unless buckets were asked). */
  series: number[];
}

/** What an issue's series count: bucket i covers [seriesStart + i·seriesStepNs, …). */
export interface IssueSeriesRange {
  seriesStart: number;
  seriesStepNs: number;
}

export interface IssuesResponse extends IssueSeriesRange {
  issues: Issue[];
}

export interface IssueResponse extends IssueSeriesRange {
  issue: Issue;
  /** The schema diff of a contract drift; null for other kinds. */
  contract: ContractDrift | null;
}

/** The inferred shape of what one producer (service, version) sent on a channel. */
export interface Contract {
  channel: string;
  service: string;
  version: string;
  /** Field path ("a", "a.b", "items[]") → JSON type ("string", "number|string", …). */
  fields: Record<string, string>;
  firstSeen: number;
  lastSeen: number;
}

export interface FieldDiff {
  path: string;
  change: "same" | "added" | "removed" | "changed" | string;
  before: string;
  after: string;
  renamedTo: string;
  renamedFrom: string;
}

export interface ContractDrift {
  channel: string;
  consumer: string;
  before: Contract;
  after: Contract;
  fields: FieldDiff[];
}

/** GET /api/v1/logs */
export interface LogsResponse {
  logs: LogRecord[];
  nextCursor: string;
}

/** GET /api/v1/invocations/{requestId} */
export interface InvocationResponse {
  invocation: InvocationRecord;
  traceId: string;
  logs: LogRecord[];
}

/** /api/v1/alerts/rules */
export interface AlertRule {
  id: string;
  name: string;
  kind: string;
  function: string;
  anyNew: boolean;
  threshold: number;
  windowNs: number;
  target: "webhook" | "slack" | "email" | string;
  url: string;
  to: string;
  created: number;
}

/** /api/v1/alerts/events */
export interface AlertEvent {
  id: string;
  ruleId: string;
  issueId: string;
  type: string;
  episode: number;
  state: string;
  attempts: number;
  nextAttempt: number;
  lastError: string;
  created: number;
  deliveredAt: number;
}
