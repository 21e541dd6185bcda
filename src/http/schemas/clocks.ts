import { Type } from '@sinclair/typebox';
import { TEST_CLOCK_MAX_ADVANCE_MS } from '../../core/clocks.js';
import { Id, list, nullable, Replay, ref, Time } from './common.js';

/** Test clocks: simulated time for the accounts made on them. */

export const TestClock = Type.Object(
  {
    id: Type.String(),
    name: nullable(Type.String()),
    now: Time('The clock’s time: now for its accounts (never behind real time).'),
    createdAt: Time('When the clock was made (real time).'),
    advancedAt: nullable(Time('When it was last advanced (real time).')),
    accounts: list(Type.String(), { description: 'The accounts made on it, by id.' }),
  },
  { $id: 'TestClock' },
);

export const TestClockList = Type.Object(
  { clocks: list(ref(TestClock)) },
  { $id: 'TestClockList' },
);

export const CreateTestClockRequest = Type.Object(
  {
    id: Id('The clock id; making it again with the same name and start is a no-op.'),
    name: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
    startsAt: Type.Optional(Time('Its first time (default now; never before now).')),
  },
  { additionalProperties: false },
);

export const TestClockResult = Type.Object(
  { clock: ref(TestClock), replay: Replay },
  { $id: 'TestClockResult' },
);

export const TestClockParams = Type.Object({ clockId: Id('The test clock.') });

export const AdvanceTestClockRequest = Type.Object(
  {
    to: Time(
      `The clock's new time: forward only, at most ${TEST_CLOCK_MAX_ADVANCE_MS / 86_400_000} days ahead; its current time again changes nothing.`,
    ),
  },
  { additionalProperties: false },
);

export const AdvancedTestClock = Type.Object(
  {
    clock: ref(TestClock),
    steps: Type.Integer({
      description: 'Days stepped through (what was due ran at each, in order); 0: already there.',
    }),
  },
  { $id: 'AdvancedTestClock' },
);
