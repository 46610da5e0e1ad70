/**
 * The external-events example's workflow (main.ts runs it): it waits up to a minute for a
 * `payment-received` ExternalEvent, keeps its content, and ships the order with the amount it read.
 */
import { Workflow } from "@pony/sdk";

export const EVENT = "payment-received";

export const workflow = Workflow.newWorkflow("example-external-events", (wf) => {
  const orderId = wf.declareStr("order-id").required();
  const payment = wf.declareJsonObj("payment");
  wf.mutate(payment, "ASSIGN", wf.waitForEvent(EVENT).timeout(60)); // fails with TIMEOUT after a minute
  wf.execute("ship-order", orderId, payment.jsonPath("$.amount"));
});
