import type { ScheduledTask } from "@pony/proto";
import type { QueuedTask } from "../store/store";
import { tenantKey } from "./tenant-keys";

/** A PollTask request waiting for a task of one TaskDef. */
export interface Poller {
  tenant: string;
  taskDefName: string;
  clientId: string;
  taskWorkerVersion?: string;
  /**
   * Hands the claimed task to the worker. `lost` is called if it cannot reach the worker (the poller or its
   * stream closed before the task was written to the transport): the claim must then be undone.
   */
  deliver(task: ScheduledTask, lost: () => void): void;
  closed: boolean;
}

const queueKey = (tenant: string, taskDefName: string) => tenantKey(tenant, taskDefName);

/**
 * In-memory queues of scheduled TaskAttempts, one per (tenant, TaskDef), and the PollTask requests waiting
 * on each. The durable truth is the task_queue table; this is rebuilt from it at start.
 */
export class TaskQueues {
  private readonly tasks = new Map<string, QueuedTask[]>();
  private readonly pollers = new Map<string, Poller[]>();

  push(task: QueuedTask): void {
    const k = queueKey(task.tenant, task.taskDefName);
    let q = this.tasks.get(k);
    if (!q) this.tasks.set(k, (q = []));
    q.push(task);
  }

  /** Puts a task back at the head (a claim that could not be delivered). */
  unshift(task: QueuedTask): void {
    const k = queueKey(task.tenant, task.taskDefName);
    let q = this.tasks.get(k);
    if (!q) this.tasks.set(k, (q = []));
    q.unshift(task);
  }

  take(tenant: string, taskDefName: string): QueuedTask | undefined {
    const q = this.tasks.get(queueKey(tenant, taskDefName));
    return q?.shift();
  }

  depth(tenant: string, taskDefName: string): number {
    return this.tasks.get(queueKey(tenant, taskDefName))?.length ?? 0;
  }

  /** Drops queued tasks of a WfRun (deleted). */
  dropWfRun(tenant: string, wfRunKey: string): void {
    for (const [k, q] of this.tasks) {
      if (!k.startsWith(tenantKey(tenant))) continue;
      const kept = q.filter((t) => t.wfRunKey !== wfRunKey);
      if (kept.length !== q.length) this.tasks.set(k, kept);
    }
  }

  /** Drops the queued tasks of a partition (handed over to another server). */
  dropPartition(part: number): void {
    for (const [k, q] of this.tasks) {
      const kept = q.filter((t) => t.part !== part);
      if (kept.length !== q.length) this.tasks.set(k, kept);
    }
  }

  addPoller(p: Poller): void {
    const k = queueKey(p.tenant, p.taskDefName);
    let list = this.pollers.get(k);
    if (!list) this.pollers.set(k, (list = []));
    list.push(p);
  }

  /** Removes a waiting poller; false if it is not waiting (for example, already taken for a task). */
  removePoller(p: Poller): boolean {
    const k = queueKey(p.tenant, p.taskDefName);
    const list = this.pollers.get(k);
    if (!list) return false;
    const i = list.indexOf(p);
    if (i < 0) return false;
    list.splice(i, 1);
    return true;
  }

  /** The longest-waiting live poller for a TaskDef, removed from the waiting list. */
  takePoller(tenant: string, taskDefName: string): Poller | undefined {
    const list = this.pollers.get(queueKey(tenant, taskDefName));
    while (list && list.length > 0) {
      const p = list.shift()!;
      if (!p.closed) return p;
    }
    return undefined;
  }
}
