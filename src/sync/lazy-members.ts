// Which member events each device has already received (client-server API "Lazy-loading room
// members": with include_redundant_members false the server need not repeat them). In memory:
// after a restart members are simply sent again, which clients accept.
const MAX_DEVICES = 5000;

export class LazyMembersSent {
  private devices = new Map<string, Map<string, Map<string, string>>>();

  private room(device: string, roomId: string): Map<string, string> {
    let rooms = this.devices.get(device);
    if (!rooms) {
      if (this.devices.size >= MAX_DEVICES) this.devices.delete(this.devices.keys().next().value!);
      this.devices.set(device, (rooms = new Map()));
    }
    let members = rooms.get(roomId);
    if (!members) rooms.set(roomId, (members = new Map()));
    return members;
  }

  alreadySent(device: string, roomId: string, userId: string, eventId: string): boolean {
    return this.devices.get(device)?.get(roomId)?.get(userId) === eventId;
  }

  record(device: string, roomId: string, userId: string, eventId: string): void {
    this.room(device, roomId).set(userId, eventId);
  }

  /** An initial or full-state sync starts the device's record afresh. */
  reset(device: string): void {
    this.devices.delete(device);
  }
}
