import { DeliveryClass, MessageType, deliveryClassOf, isMessageType } from './message-type.js';

describe('deliveryClassOf', () => {
  it.each([
    [MessageType.DeployRequest, DeliveryClass.Durable],
    [MessageType.DeployCancel, DeliveryClass.Durable],
    [MessageType.DeployStop, DeliveryClass.Durable],
    [MessageType.DeployLifecycle, DeliveryClass.Durable],
    [MessageType.DeployStatus, DeliveryClass.Durable],
    [MessageType.NodeInfo, DeliveryClass.Telemetry],
    [MessageType.DeployStats, DeliveryClass.Telemetry],
    [MessageType.DeployLog, DeliveryClass.Durable],
  ])('carries %s as %s', (type, expected) => {
    expect(deliveryClassOf(type)).toBe(expected);
  });

  it('gives every message type a delivery class', () => {
    const classes = new Set<string>(Object.values(DeliveryClass));
    for (const type of Object.values(MessageType)) expect(classes.has(deliveryClassOf(type))).toBe(true);
  });
});

describe('isMessageType', () => {
  it('accepts exactly the protocol message types', () => {
    for (const type of Object.values(MessageType)) expect(isMessageType(type)).toBe(true);
    for (const other of ['deploy', 'NodeInfo', 'node.info ', '', 7, null, undefined]) expect(isMessageType(other)).toBe(false);
  });
});
