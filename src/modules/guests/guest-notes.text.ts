import type { GuestNotesResultDto } from './dto/guest-notes.dto.js';

/** Text of set_vm_description and set_container_description. */
export const guestNotesText = (r: GuestNotesResultDto): string => {
  const what = `${r.type === 'qemu' ? 'VM' : 'Container'} ${r.vmid} on ${r.node}`;
  return r.cleared
    ? `Notes of ${what} removed`
    : `Notes of ${what} set (${r.description.length} characters):\n${r.description}`;
};
