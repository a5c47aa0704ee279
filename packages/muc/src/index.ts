// @cordon/muc: the labelled multi-user chat component (XEP-0045 + XEP-0258).
export { createMucService } from "./service/muc-service.js";
export type { MucService, MucServiceOptions } from "./service/muc-service.js";
export { MucReloadError, type PolicyReload } from "./service/policy-reload.js";
export { MUC_CONFIG_KEYS, readMucConfig, readMucSettings } from "./config.js";
export type { MucConfig, MucConfigOptions } from "./config.js";
export type { MucSettings, NamedLabel, MucObserver, MucAuditEvent } from "./service/context.js";
export { DEFAULT_ROOM_CONFIG, configFromRecord } from "./room/room-config.js";
export type { RoomConfig } from "./room/room-config.js";
export { Room } from "./room/room.js";
export type { Occupant, Role, Affiliation } from "./room/occupant.js";
export { selectHistory, readHistoryRequest } from "./room/history.js";
export type { HistoryEntry, HistoryRequest } from "./room/history.js";
export { ClearanceBook } from "./security/clearance-book.js";
export { deliverableLabel } from "./service/delivery.js";
export * from "./namespaces.js";
export { storedLabel } from "./service/room-config-form.js";
export {
  MucRoomNotFoundError,
  MucRoomExistsError,
  MucOperatorRefusedError,
  MucOperatorUnavailableError,
} from "./service/operator.js";
export type { MucOperator, RoomView, OccupantView, CreateRoomRequest } from "./service/operator.js";
export type { SecurityChoices } from "./service/room-config-form.js";
export { SlotTakeover } from "./cluster/slot-takeover.js";
export type { ClusterMembership, MucLink, SlotTakeoverOptions } from "./cluster/slot-takeover.js";
