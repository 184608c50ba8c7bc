import type { ObjectTypeName } from './model.ts';
import { associationType } from './object-types.ts';

/** A directed association as stored: both directions are kept, each with its own type ids. */
export type AssociationEdge = [fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName, toId: string, typeIds: number[]];

const key = (type: ObjectTypeName, id: string): string => `${type}:${id}`;

/** Associations between CRM records, indexed by source record for O(1) lookups in both directions. */
export class AssociationIndex {
  /** `type:id` → `toType:toId` → type ids (from → to direction). */
  private readonly edges = new Map<string, Map<string, Set<number>>>();

  /** Adds type ids (and their inverses on the other side). Returns the ids now linking from → to. */
  add(fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName, toId: string, typeIds: readonly number[]): number[] {
    const forward = this.link(key(fromType, fromId), key(toType, toId));
    const backward = this.link(key(toType, toId), key(fromType, fromId));
    for (const id of typeIds) {
      forward.add(id);
      const inverse = associationType(id)?.inverse;
      if (inverse !== undefined) backward.add(inverse);
    }
    return [...forward].sort((a, b) => a - b);
  }

  /** Removes every association between two records (both directions). */
  remove(fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName, toId: string): boolean {
    const a = key(fromType, fromId);
    const b = key(toType, toId);
    const removed = this.edges.get(a)?.delete(b) ?? false;
    this.edges.get(b)?.delete(a);
    return removed;
  }

  /** Associated records of one type, in id order, with their type ids. */
  list(fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName): { toId: string; typeIds: number[] }[] {
    const targets = this.edges.get(key(fromType, fromId));
    if (targets === undefined) return [];
    const prefix = `${toType}:`;
    const result: { toId: string; typeIds: number[] }[] = [];
    for (const [target, typeIds] of targets) {
      if (target.startsWith(prefix) && typeIds.size > 0) {
        result.push({ toId: target.slice(prefix.length), typeIds: [...typeIds].sort((a, b) => a - b) });
      }
    }
    return result.sort((x, y) => Number(x.toId) - Number(y.toId));
  }

  /** Drops every association of a record (when it is archived or purged). */
  removeAllFor(type: ObjectTypeName, id: string): void {
    const own = key(type, id);
    for (const target of this.edges.get(own)?.keys() ?? []) this.edges.get(target)?.delete(own);
    this.edges.delete(own);
  }

  clear(): void {
    this.edges.clear();
  }

  /** Every directed edge, for the state file. */
  toEdges(): AssociationEdge[] {
    const result: AssociationEdge[] = [];
    for (const [from, targets] of this.edges) {
      const [fromType, fromId] = split(from);
      for (const [to, typeIds] of targets) {
        const [toType, toId] = split(to);
        if (typeIds.size > 0) result.push([fromType, fromId, toType, toId, [...typeIds]]);
      }
    }
    return result;
  }

  /** Restores the edges written by `toEdges`. */
  load(edges: readonly AssociationEdge[]): void {
    this.clear();
    for (const [fromType, fromId, toType, toId, typeIds] of edges) {
      const set = this.link(key(fromType, fromId), key(toType, toId));
      for (const id of typeIds) set.add(id);
    }
  }

  private link(from: string, to: string): Set<number> {
    let targets = this.edges.get(from);
    if (targets === undefined) {
      targets = new Map();
      this.edges.set(from, targets);
    }
    let typeIds = targets.get(to);
    if (typeIds === undefined) {
      typeIds = new Set();
      targets.set(to, typeIds);
    }
    return typeIds;
  }
}

function split(value: string): [ObjectTypeName, string] {
  const index = value.indexOf(':');
  return [value.slice(0, index) as ObjectTypeName, value.slice(index + 1)];
}
