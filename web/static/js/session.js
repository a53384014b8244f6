// The signed-in person and their live connection, shared by every view.
import { Emitter } from './emitter.js';

class Session extends Emitter {
  constructor() {
    super();
    this.user = null;
    this.socket = null;
  }
  close() {
    if (this.socket) this.socket.stop();
    this.socket = null;
  }
}

export const session = new Session();
