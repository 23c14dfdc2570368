import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';

/** PVE keeps notes in the config file; longer ones make every config read heavy (the UI stops at 8 KiB too). */
export const NOTES_MAX = 8192;

/** Notes are text in the config file: no NUL or other control characters besides newline, CR and tab. */
// eslint-disable-next-line no-control-regex -- the point is to refuse control characters
export const NOTES_TEXT_RE = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;

/** set_vm_description / set_container_description. */
export class SetDescriptionBodyDto {
  @IsString()
  @MaxLength(NOTES_MAX, { message: `description must be at most ${NOTES_MAX} characters` })
  @Matches(NOTES_TEXT_RE, {
    message: 'description must be text: control characters other than newline and tab are not allowed',
  })
  @JSONSchema({
    description: `New notes text (Markdown, at most ${NOTES_MAX} characters); replaces any existing notes. An empty string removes them.`,
  })
  description: string;

  @IsOptional()
  @IsString()
  @Matches(/^[0-9a-f]{40}$/, {
    message: '$property must be the 40-hex-digit digest the config read returned',
  })
  @JSONSchema({
    description:
      'The config digest from get_vm_config / get_container_config: a concurrent edit since then is refused (CONFLICT). Default: the digest read just before',
  })
  digest?: string;
}

export class GuestNotesResultDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;
  @IsIn(['qemu', 'lxc']) type: 'qemu' | 'lxc';
  @IsString() @JSONSchema({ description: 'The notes now stored (empty when removed)' }) description: string;
  @IsBoolean() @JSONSchema({ description: 'True when the notes were removed' }) cleared: boolean;
  @IsString()
  @JSONSchema({ description: 'The digest the update was checked against' })
  digest_checked: string;
}
