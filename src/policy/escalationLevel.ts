// Escalation levels of seed 000, in rising order of urgency.
import { z } from 'zod';

export const EscalationLevel = z.enum(['info', 'warning', 'critical', 'emergency']);
export type EscalationLevel = z.infer<typeof EscalationLevel>;
