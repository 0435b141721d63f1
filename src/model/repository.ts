// A software repository a package came from (rpm repositories, language registries).
export interface Repository {
  name: string;
  key: string;
  uri: string;
  cpe: string;
}

export function repositoryKey(r: Repository): string {
  return [r.name, r.key, r.uri, r.cpe].join('|');
}
