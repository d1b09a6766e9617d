// An account: the unit of isolation. Each has its own subject space (sublist); everything
// lives in the global account `$G` until accounts are configured (security issue).
import { Sublist } from "./sublist.ts";

export class Account {
  readonly name: string;
  readonly sublist: Sublist;
  connections = 0;

  constructor(name: string, useSublistCache: boolean) {
    this.name = name;
    this.sublist = new Sublist(useSublistCache);
  }
}
