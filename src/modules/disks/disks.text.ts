import type { ContainerTemplateResultDto } from './dto/disks.dto.js';

/** Text of convert_container_to_template. */
export const containerTemplateText = (r: ContainerTemplateResultDto): string =>
  `Container ${r.vmid} on ${r.node} is now a template (clone_container makes new containers from it)`;
