/** Errors of the metric port: each names the metric at fault. */

/** Base class for every metric failure. */
export class MetricError extends Error {
  /** The metric at fault (catalogue name), when there is one. */
  public readonly metric?: string;
  public constructor(message: string, options?: { metric?: string; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'MetricError';
    this.metric = options?.metric;
  }
}

/** A name that is neither a metric nor an alias in the metric catalogue (playbooks/metrics.yaml). */
export class UnknownMetricError extends MetricError {
  public constructor(metric: string, options?: { cause?: unknown }) {
    super(`unknown metric "${metric}": not a metric or alias in the metric catalogue (playbooks/metrics.yaml); add it there or fix the name`, { metric, cause: options?.cause });
    this.name = 'UnknownMetricError';
  }
}

/** Metric data that cannot be stored (unknown name, bad value, unit or timestamp). Nothing of the batch was stored. */
export class InvalidMetricDataError extends MetricError {
  /** Every problem found in the batch, each prefixed with the datum's position. */
  public readonly problems: readonly string[];
  public constructor(problems: readonly string[], options?: { metric?: string; cause?: unknown }) {
    super(`metric data rejected, nothing stored: ${problems.join('; ')}`, options);
    this.name = 'InvalidMetricDataError';
    this.problems = problems;
  }
}

/** A CloudWatch dimension of a catalogue metric has no value configured for this query. */
export class MissingDimensionError extends MetricError {
  /** The dimension without a value, e.g. `DBInstanceIdentifier`. */
  public readonly dimension: string;
  public constructor(metric: string, dimension: string, fix: string) {
    super(`metric "${metric}" needs a value for the CloudWatch dimension "${dimension}": ${fix}`, { metric });
    this.name = 'MissingDimensionError';
    this.dimension = dimension;
  }
}
