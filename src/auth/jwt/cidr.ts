// Source-network limits of user JWTs (`src`): CIDR parsing and matching as Go's net package
// does it, because the reference decides with net.ParseCIDR / IPNet.Contains:
//   - IPv4 is dotted decimal, four parts, no leading zeros; IPv6 per RFC 4291 with `::` and an
//     optional trailing dotted IPv4; zones (`%eth0`) and spaces are refused;
//   - an IPv4-mapped IPv6 network (`::ffff:a.b.c.d/n`, n ≥ 96) is an IPv4 network, and an
//     IPv4-mapped client address is an IPv4 address; an IPv6 network never holds an IPv4
//     client (`::/0` does not match 127.0.0.1).

/** A parsed address: 4 bytes (IPv4) or 16 bytes (IPv6), as Go's net.IP forms them. */
export type IpBytes = Uint8Array;

export interface IpNetwork {
  /** 4 bytes for an IPv4 network, 16 for IPv6. */
  ip: Uint8Array;
  mask: Uint8Array;
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    if (p.length > 1 && p[0] === "0") return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | null {
  if (text.length === 0) return null;
  const out = new Uint8Array(16);
  let head: string[] = [];
  let tail: string[] = [];
  const gap = text.indexOf("::");
  if (gap >= 0) {
    if (text.indexOf("::", gap + 1) >= 0) return null;
    const left = text.slice(0, gap);
    const right = text.slice(gap + 2);
    head = left === "" ? [] : left.split(":");
    tail = right === "" ? [] : right.split(":");
  } else {
    head = text.split(":");
  }
  const groups: number[] = [];
  const expand = (parts: string[], isLast: boolean): number[] | null => {
    const words: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (isLast && i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (v4 === null) return null;
        words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      // Any number of hex digits, leading zeros included, up to the value 0xffff (Go xtoi).
      if (!/^[0-9a-fA-F]+$/.test(p) || p.replace(/^0+/, "").length > 4) return null;
      words.push(parseInt(p, 16));
    }
    return words;
  };
  const headWords = expand(head, gap < 0);
  const tailWords = expand(tail, true);
  if (headWords === null || tailWords === null) return null;
  if (gap >= 0) {
    if (headWords.length + tailWords.length > 7) return null;
    groups.push(...headWords, ...new Array(8 - headWords.length - tailWords.length).fill(0), ...tailWords);
  } else {
    if (headWords.length !== 8) return null;
    groups.push(...headWords);
  }
  for (let i = 0; i < 8; i++) {
    out[i * 2] = groups[i] >> 8;
    out[i * 2 + 1] = groups[i] & 0xff;
  }
  return out;
}

function isV4Mapped(ip: Uint8Array): boolean {
  if (ip.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/** Go net.ParseIP: an IPv4 literal yields its 4 bytes (reported through `toV4`), IPv6 16. */
export function parseIp(text: string): IpBytes | null {
  if (typeof text !== "string") return null;
  if (text.includes(":")) return parseIpv6(text);
  return parseIpv4(text);
}

/** Go IP.To4: the IPv4 form of a 4-byte or IPv4-mapped address, else null. */
function toV4(ip: Uint8Array): Uint8Array | null {
  if (ip.length === 4) return ip;
  return isV4Mapped(ip) ? ip.subarray(12) : null;
}

/** Go net.ParseCIDR: the network, or null when the text is not a CIDR. */
export function parseCidr(text: string): IpNetwork | null {
  if (typeof text !== "string") return null;
  const slash = text.indexOf("/");
  if (slash < 0) return null;
  const addrText = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  const isV6 = addrText.includes(":");
  const ip = isV6 ? parseIpv6(addrText) : parseIpv4(addrText);
  if (ip === null) return null;
  if (!/^[0-9]+$/.test(bitsText) || bitsText.length > 6) return null;
  const bits = Number(bitsText);
  const width = isV6 ? 128 : 32;
  if (bits > width) return null;
  const mask = new Uint8Array(width / 8);
  for (let i = 0; i < bits; i++) mask[i >> 3] |= 0x80 >> (i & 7);
  const masked = ip.map((b, i) => b & mask[i]);
  // A mapped IPv4 network is an IPv4 network with the low 32 bits of the mask.
  const v4 = toV4(masked);
  if (isV6 && v4 !== null) return { ip: v4.slice(), mask: mask.slice(12) };
  return { ip: masked, mask };
}

/** Go IPNet.Contains. */
export function networkContains(net: IpNetwork, ip: IpBytes): boolean {
  const addr = toV4(ip) ?? ip;
  if (addr.length !== net.ip.length) return false;
  for (let i = 0; i < addr.length; i++) if ((addr[i] & net.mask[i]) !== net.ip[i]) return false;
  return true;
}
