import type { Command } from 'commander';
import { parseCredits } from '../../core/credits.js';
import { AmisiError } from '../../core/errors.js';
import {
  ROLES,
  type BudgetAlert,
  type BudgetScope,
  type Member,
  type Project,
} from '../../core/teams.js';
import type { BudgetView } from '../../ledger/ledger.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { iso, pairs, table } from '../output.js';
import { parseCount, parseTime } from '../parse.js';

type Globals = () => GlobalOptions;

const replayNote = (replay: boolean): [string, string][] =>
  replay ? [['replay', 'yes: it was so already, nothing changed']] : [];

function membersTable(rows: readonly Member[]): string {
  return table(rows, [
    { header: 'member', value: (m) => m.id },
    { header: 'role', value: (m) => m.role },
    { header: 'status', value: (m) => m.status },
    { header: 'name', value: (m) => m.name },
    { header: 'email', value: (m) => m.email },
    { header: 'joined', value: (m) => iso(m.joinedAt) },
  ]);
}

function projectsTable(rows: readonly Project[]): string {
  return table(rows, [
    { header: 'project', value: (p) => p.id },
    { header: 'name', value: (p) => p.name },
    { header: 'created', value: (p) => iso(p.createdAt) },
  ]);
}

function memberPairs(m: Member, extra: [string, string | number | null][] = []): string {
  return pairs([
    ['organization', m.accountId],
    ['member', m.id],
    ['role', m.role],
    ['status', m.status],
    ['name', m.name],
    ['email', m.email],
    ['joined', iso(m.joinedAt)],
    ...extra,
  ]);
}

/** "pool", "member alice", "project web". */
function budgetLabel(b: { scope: BudgetScope; target: string }): string {
  return b.scope === 'pool' ? 'pool' : `${b.scope} ${b.target}`;
}

/** The limit, or for the pool without one, its size marked "(pool)". */
function limitText(b: BudgetView): string | number {
  return b.limitCredits ?? `${b.size} (pool)`;
}

const BAR_WIDTH = 20;

/** A text bar of the used and held share of the size: [#######.............]. */
function bar(percent: number): string {
  const filled = Math.min(BAR_WIDTH, Math.max(0, Math.floor((percent * BAR_WIDTH) / 100)));
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
}

/** When the period ends; without a plan a cycle budget runs to the end of the month (UTC). */
function periodEnd(b: BudgetView): number {
  if (b.periodEnd !== null) return b.periodEnd;
  const d = new Date(b.periodStart);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function budgetsTable(rows: readonly BudgetView[]): string {
  return table(rows, [
    { header: 'budget', value: budgetLabel },
    { header: 'mode', value: (b) => b.mode },
    { header: 'period', value: (b) => b.period },
    { header: 'used', value: (b) => b.used },
    { header: 'held', value: (b) => b.held },
    { header: 'limit', value: limitText, align: 'right' },
    { header: 'percent', value: (b) => `${b.percent}%`, align: 'right' },
    { header: '', value: (b) => bar(b.percent), align: 'left' },
    { header: 'period ends', value: (b) => iso(periodEnd(b)) },
  ]);
}

function budgetPairs(b: BudgetView, replay: boolean): string {
  return pairs([
    ['organization', b.accountId],
    ['budget', budgetLabel(b)],
    ['mode', b.mode],
    ['period', b.period],
    ...(b.period === 'fixed'
      ? ([['window', `${iso(b.startsAt)} to ${iso(b.endsAt)}`]] as [string, string][])
      : []),
    ['limit', limitText(b)],
    ['used', b.used],
    ['held', b.held],
    ['percent', `${b.percent}% ${bar(b.percent)}`],
    ['period ends', iso(periodEnd(b))],
    ...replayNote(replay),
  ]);
}

function requireRole(text: string): string {
  if (!(ROLES as readonly string[]).includes(text)) {
    throw new AmisiError('invalid_argument', `role must be ${ROLES.join(', ')}, got "${text}"`, {
      field: 'role',
      value: text,
    });
  }
  return text;
}

/** A budget limit: a whole number of credits, and unlike other amounts 0 is allowed. */
function parseLimit(text: string): number {
  if (!/^[0-9]+$/.test(text)) {
    throw new AmisiError(
      'invalid_credits',
      `limit must be a whole number of credits, 0 or more, got ${JSON.stringify(text)}`,
      { field: 'limit', value: text },
    );
  }
  return /^0+$/.test(text) ? 0 : parseCredits(text, 'limit');
}

interface ScopeOptions {
  readonly member?: string;
  readonly project?: string;
  readonly pool?: boolean;
}

/** Exactly one of --member, --project, --pool. */
function scopeFrom(o: ScopeOptions): { scope: BudgetScope; target?: string } {
  const given = [o.member !== undefined, o.project !== undefined, o.pool === true].filter(
    Boolean,
  ).length;
  if (given !== 1) {
    throw new AmisiError('invalid_argument', 'give exactly one of --member, --project or --pool', {
      field: 'scope',
    });
  }
  if (o.member !== undefined) return { scope: 'member', target: o.member };
  if (o.project !== undefined) return { scope: 'project', target: o.project };
  return { scope: 'pool' };
}

function scopeOptions(cmd: Command): Command {
  return cmd
    .option('--member <id>', "a member's budget")
    .option('--project <id>', "a project's budget")
    .option('--pool', "the organization's pooled credits");
}

export function registerTeams(program: Command, globals: Globals): void {
  const org = program
    .command('org')
    .description('organizations: accounts whose pooled credits members spend');
  org
    .command('create <id>')
    .description('create an organization with its first owner (repeating it is a no-op)')
    .requiredOption('--name <name>', "the organization's name")
    .requiredOption('--owner <memberId>', 'the member id of its first owner')
    .option('--owner-name <name>', "the owner's name")
    .option('--owner-email <email>', "the owner's email")
    .action(
      async (
        id: string,
        o: { name: string; owner: string; ownerName?: string; ownerEmail?: string },
      ) => {
        await withLedger(globals(), async (ledger, out) => {
          const r = await ledger.createOrganization({
            accountId: id,
            name: o.name,
            owner: {
              id: o.owner,
              ...(o.ownerName === undefined ? {} : { name: o.ownerName }),
              ...(o.ownerEmail === undefined ? {} : { email: o.ownerEmail }),
            },
          });
          out.print(
            () =>
              pairs([
                ['account', r.account.id],
                ['name', r.account.name],
                ['owner', r.owner.id],
                ['created', iso(r.account.createdAt)],
                ...replayNote(r.replay),
              ]),
            r,
          );
        });
      },
    );
  org
    .command('show <id>')
    .description('plan, team access, seats, members and projects')
    .action(async (id: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const o = await ledger.organization(id);
        out.print(
          () =>
            [
              pairs([
                ['account', o.account.id],
                ['name', o.account.name],
                ['plan', o.plan],
                ['team access', o.teamAccess ? 'yes' : 'no (the owner alone)'],
                ['seats', `${o.members.length} of ${o.seats} used`],
              ]),
              '',
              membersTable(o.members),
              '',
              o.projects.length === 0 ? 'no projects' : projectsTable(o.projects),
            ].join('\n'),
          o,
        );
      });
    });

  const members = program
    .command('members')
    .description("an organization's members and their roles");
  members
    .command('add <org> <memberId>')
    .description('add a member (or invite one: --invite prints a code shown once)')
    .option('--role <role>', ROLES.join(' | '), 'member')
    .option('--name <name>', "the member's name")
    .option('--email <email>', "the member's email")
    .option('--invite', 'the member joins by accepting with the code printed')
    .action(
      async (
        account: string,
        memberId: string,
        o: { role: string; name?: string; email?: string; invite?: boolean },
      ) => {
        const role = requireRole(o.role);
        await withLedger(globals(), async (ledger, out) => {
          const r = await ledger.setMember({
            accountId: account,
            memberId,
            role,
            ...(o.name === undefined ? {} : { name: o.name }),
            ...(o.email === undefined ? {} : { email: o.email }),
            invite: o.invite === true,
          });
          const code = r.invitationCode;
          out.print(
            () =>
              memberPairs(r.member, [
                ...(code === null
                  ? []
                  : ([
                      ['invitation', `${code}  (shown once)`],
                      ['to accept', `amisi members accept ${account} ${memberId} --code ${code}`],
                    ] as [string, string][])),
                ...replayNote(r.replay),
              ]),
            r,
          );
        });
      },
    );
  members
    .command('list <org>')
    .description('members in id order, invited ones too')
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const rows = await ledger.listMembers(account);
        out.print(() => membersTable(rows), rows);
      });
    });
  members
    .command('role <org> <memberId> <role>')
    .description("change a member's role (the last owner stays an owner)")
    .action(async (account: string, memberId: string, role: string) => {
      requireRole(role);
      await withLedger(globals(), async (ledger, out) => {
        // Only an existing member: setMember would add one.
        await ledger.getMember(account, memberId);
        const r = await ledger.setMember({ accountId: account, memberId, role });
        out.print(() => memberPairs(r.member, replayNote(r.replay)), r);
      });
    });
  members
    .command('remove <org> <memberId>')
    .description("remove a member and the member's budget (the last owner stays)")
    .action(async (account: string, memberId: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.removeMember({ accountId: account, memberId });
        out.print(() => `member ${r.member.id} removed from ${account}`, r);
      });
    });
  members
    .command('accept <org> <memberId>')
    .description('an invited member joins with the invitation code')
    .requiredOption('--code <code>', 'the code printed when the member was invited')
    .action(async (account: string, memberId: string, o: { code: string }) => {
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.acceptInvitation({ accountId: account, memberId, code: o.code });
        out.print(() => memberPairs(r.member), r);
      });
    });

  const projects = program
    .command('projects')
    .description("an organization's projects (credits can be attributed to one)");
  projects
    .command('create <org> <projectId>')
    .description('create a project, or rename it (repeating it is a no-op)')
    .option('--name <name>', 'its name (default: its id)')
    .action(async (account: string, projectId: string, o: { name?: string }) => {
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.setProject({
          accountId: account,
          projectId,
          ...(o.name === undefined ? {} : { name: o.name }),
        });
        out.print(
          () =>
            pairs([
              ['organization', r.project.accountId],
              ['project', r.project.id],
              ['name', r.project.name],
              ['created', iso(r.project.createdAt)],
              ...replayNote(r.replay),
            ]),
          r,
        );
      });
    });
  projects
    .command('list <org>')
    .description('projects in id order')
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const rows = await ledger.listProjects(account);
        out.print(() => (rows.length === 0 ? 'no projects' : projectsTable(rows)), rows);
      });
    });

  const budgets = program
    .command('budgets')
    .description('spending limits per member, per project and on the pool');
  scopeOptions(
    budgets
      .command('set <org>')
      .description('set a budget: hard refuses beyond it, soft allows and alerts at 50/80/100%'),
  )
    .requiredOption('--limit <credits>', 'credits per period (0: nothing may be spent)')
    .option('--soft', 'allow spending beyond the limit, with alerts (default: hard, refuse)')
    .option('--fixed', 'a fixed window (--from, --until) instead of each plan cycle')
    .option('--from <iso>', 'when a fixed budget starts')
    .option('--until <iso>', 'when a fixed budget ends (exclusive)')
    .action(
      async (
        account: string,
        o: ScopeOptions & {
          limit: string;
          soft?: boolean;
          fixed?: boolean;
          from?: string;
          until?: string;
        },
      ) => {
        const scope = scopeFrom(o);
        if (o.fixed !== true && (o.from !== undefined || o.until !== undefined)) {
          throw new AmisiError('invalid_argument', '--from and --until go with --fixed', {
            field: o.from !== undefined ? 'from' : 'until',
          });
        }
        const input = {
          accountId: account,
          ...scope,
          limit: parseLimit(o.limit),
          mode: o.soft === true ? 'soft' : 'hard',
          period: o.fixed === true ? 'fixed' : 'cycle',
          ...(o.from === undefined ? {} : { startsAt: parseTime(o.from, 'from') }),
          ...(o.until === undefined ? {} : { endsAt: parseTime(o.until, 'until') }),
        };
        await withLedger(globals(), async (ledger, out) => {
          const r = await ledger.setBudget(input);
          out.print(() => budgetPairs(r.budget, r.replay), r);
        });
      },
    );
  budgets
    .command('show <org>')
    .description('every budget in its current period: used, held, limit, percent')
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const rows = await ledger.budgets(account);
        out.print(() => budgetsTable(rows), rows);
      });
    });
  scopeOptions(
    budgets
      .command('remove <org>')
      .description("remove a member's or project's budget; the pool's limit goes (alerts stay)"),
  ).action(async (account: string, o: ScopeOptions) => {
    const scope = scopeFrom(o);
    await withLedger(globals(), async (ledger, out) => {
      const r = await ledger.removeBudget({ accountId: account, ...scope });
      out.print(
        () =>
          r.budget.scope === 'pool'
            ? `the pool of ${account} has no limit now`
            : `budget of ${budgetLabel(r.budget)} removed from ${account}`,
        r,
      );
    });
  });

  program
    .command('alerts <org>')
    .description('budget thresholds reached (50, 80, 100%), newest first')
    .option('--limit <n>', 'at most this many (default 100)')
    .action(async (account: string, o: { limit?: string }) => {
      const limit = o.limit === undefined ? 100 : parseCount(o.limit, 'limit');
      if (limit < 1 || limit > 500) {
        throw new AmisiError('invalid_argument', `limit must be from 1 to 500, got ${limit}`, {
          field: 'limit',
        });
      }
      await withLedger(globals(), async (ledger, out) => {
        const rows = await ledger.budgetAlerts(account, limit);
        out.print(
          () =>
            rows.length === 0
              ? 'no budget alerts'
              : table<BudgetAlert>(rows, [
                  { header: 'when', value: (a) => iso(a.createdAt) },
                  { header: 'budget', value: budgetLabel },
                  { header: 'threshold', value: (a) => `${a.threshold}%`, align: 'right' },
                  { header: 'mode', value: (a) => a.mode },
                  { header: 'used', value: (a) => a.used },
                  { header: 'held', value: (a) => a.held },
                  { header: 'limit', value: (a) => a.limitCredits },
                ]),
          rows,
        );
      });
    });
}
