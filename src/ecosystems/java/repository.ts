import type { Repository } from '../../model/repository.ts';

/** Maven artifacts are associated with Maven Central (matchers select "maven"). */
export const mavenRepository: Repository = { name: 'maven', key: '', uri: 'https://repo1.maven.apache.org/maven2', cpe: '' };
