import type { Repository } from '../../model/repository.ts';

/** Every gem is associated with RubyGems.org (language matchers select by the name "rubygems"). */
export const rubygemsRepository: Repository = { name: 'rubygems', key: '', uri: 'https://rubygems.org/', cpe: '' };
