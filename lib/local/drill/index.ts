/** Drills (issue 14): the seed's scenarios and the breakers, end to end on the local engine and the drill world. */
export { runDrills, stepOutcomes, pathDeviations, alarmEvent, TARGETS, DEFAULT_DRILL_REDIS, type ApproveMode, type DrillOptions, type DrillResult } from './runner';
export { SCENARIOS, scenario, UnknownScenarioError, type Scenario, type StepExpectation, type StepOutcome } from './scenarios';
export { summaryTable } from './summary';
