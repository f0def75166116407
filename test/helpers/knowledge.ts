/** A knowledge-base entry (seed §5.2) for tests: every field, the text and id given. */
import type { KnowledgeEntry } from '../../lib/knowledge';

export const knowledgeEntry = (id: string, text: string): KnowledgeEntry => ({
  incident_id: id,
  timestamp: '2026-02-09T14:15:00.000Z',
  service: 'trading-api',
  severity: 'HIGH',
  searchable_text: text,
  root_cause: `root of ${id}`,
  resolution_steps: [`fixed ${id}`],
  resolution_duration: 1380,
  playbook_used: 'traffic-surge',
  was_auto_remediated: false,
  success: true,
});
